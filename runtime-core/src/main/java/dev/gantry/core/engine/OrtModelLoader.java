package dev.gantry.core.engine;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.scheduling.ModelExecutor;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Loads an ONNX model file through DJL's {@link Criteria} on the OnnxRuntime engine. */
public final class OrtModelLoader {
    private OrtModelLoader() {
    }

    /*
     * Why not DJL's Predictor for inference: DJL's ORT engine converts NDArrays to ORT tensors for six element
     * types only (FP32, FP64, INT32, INT64, INT8, UINT8), and the OIP must carry BOOL, INT16 and FP16 as
     * well. So DJL loads the model (Criteria, device, engine lifecycle) with session options we build
     * (thread pools, spinning, CUDA) — OrtModel reads them from its documented "sessionOptions" option —
     * and inference runs on the session DJL created, with tensors built straight from our raw buffers.
     */

    /**
     * Loads {@code versionDir/fileName}.
     *
     * @throws GantryException UNAVAILABLE with the reason when the file is missing, malformed, or needs a
     *     device this process does not have
     */
    public static ModelExecutor load(Path versionDir, String fileName, ExecutionSettings settings) {
        Path file = versionDir.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw GantryException.unavailable("model file " + file + " does not exist");
        }
        if (settings.gpuDevice().isPresent()) {
            requireCuda();
        }
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(settings.intraOpThreads());
            options.setInterOpNumThreads(settings.interOpThreads());
            options.setExecutionMode(settings.interOpThreads() > 1
                    ? OrtSession.SessionOptions.ExecutionMode.PARALLEL
                    : OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.addConfigEntry("session.intra_op.allow_spinning", settings.allowSpinning() ? "1" : "0");
            options.addConfigEntry("session.inter_op.allow_spinning", settings.allowSpinning() ? "1" : "0");
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtMemoryOptions.apply(options, settings.memory());
            // A failed run reaches the caller as an error carrying ORT's message; ORT's own copy of it on
            // stderr (one per failed request) would only be noise, so the session logs fatal errors only.
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);

            @SuppressWarnings({"unchecked", "rawtypes"})
            Map<String, String> djlOptions = (Map) new HashMap<String, Object>(Map.of("sessionOptions", options));
            String modelName = fileName.endsWith(".onnx") ? fileName.substring(0, fileName.length() - 5) : fileName;
            Criteria<NDList, NDList> criteria = Criteria.builder()
                    .setTypes(NDList.class, NDList.class)
                    .optEngine("OnnxRuntime")
                    .optModelPath(versionDir)
                    .optModelName(modelName)
                    .optDevice(settings.gpuDevice().isPresent() ? Device.gpu(settings.gpuDevice().getAsInt())
                            : Device.cpu())
                    .optOptions(djlOptions)
                    .optTranslator(new NoopTranslator())
                    .build();
            ZooModel<NDList, NDList> model = criteria.loadModel();
            try {
                return new OrtExecutor(model, sessionOf(model), options, OrtMemoryOptions.runOptions(
                        settings.memory()));
            } catch (OrtException | RuntimeException e) {
                model.close();
                throw e;
            }
        } catch (MalformedModelException e) {
            options.close();
            throw GantryException.unavailable("ONNX Runtime could not load " + file + ": " + rootMessage(e));
        } catch (ModelNotFoundException | IOException | OrtException e) {
            options.close();
            throw GantryException.unavailable("could not load " + file + ": " + rootMessage(e));
        } catch (GantryException e) {
            options.close();
            throw e;
        } catch (RuntimeException e) {
            options.close();
            throw GantryException.unavailable("could not load " + file + ": " + rootMessage(e));
        }
    }

    private static void requireCuda() {
        var providers = OrtEnvironment.getAvailableProviders();
        if (!providers.contains(OrtProvider.CUDA)) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "KIND_GPU needs ONNX Runtime's CUDA execution provider,"
                    + " but this build of ONNX Runtime offers only " + providers
                    + " (build with -Pgpu for onnxruntime_gpu, on a machine with CUDA and a GPU)");
        }
    }

    private static OrtSession sessionOf(ZooModel<NDList, NDList> model) {
        Object block = model.getBlock();
        try {
            Field f = block.getClass().getDeclaredField("session");
            f.setAccessible(true);
            return (OrtSession) f.get(block);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new GantryException(ErrorCode.INTERNAL, "this DJL version's OnnxRuntime block ("
                    + block.getClass().getName() + ") does not expose its session: " + e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null && !sb.toString().contains(t.getMessage())) {
                sb.append(": ").append(t.getMessage());
            }
        }
        return sb.toString();
    }
}
