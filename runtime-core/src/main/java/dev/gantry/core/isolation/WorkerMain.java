package dev.gantry.core.isolation;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtMemory;
import dev.gantry.core.engine.OrtModelLoader;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.scheduling.ModelExecutor;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A model's worker process: loads one model and runs the requests the server sends over a Unix domain socket,
 * one at a time, until the server closes the connection or the process is killed.
 *
 * <p>Arguments: {@code socketPath versionDir fileName intraOpThreads interOpThreads allowSpinning gpuDevice
 * ortMemory}.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    public static void main(String[] args) throws IOException {
        Path socket = Path.of(args[0]);
        int gpu = Integer.parseInt(args[6]);
        ExecutionSettings settings = new ExecutionSettings(Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                Boolean.parseBoolean(args[5]), gpu < 0 ? OptionalInt.empty() : OptionalInt.of(gpu),
                OrtMemory.of(args[7]));
        ModelExecutor executor = OrtModelLoader.load(Path.of(args[1]), args[2], settings);
        Files.deleteIfExists(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (SocketChannel channel = server.accept()) {
                serve(executor, channel);
            }
        } finally {
            Files.deleteIfExists(socket);
        }
        System.exit(0);
    }

    private static void serve(ModelExecutor executor, SocketChannel channel) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
        while (true) {
            Set<String> outputs;
            List<Tensor> inputs;
            try {
                outputs = TensorFrames.readOutputs(in);
                inputs = TensorFrames.readTensors(in);
            } catch (EOFException e) {
                return;
            }
            List<Tensor> result;
            try {
                result = executor.run(inputs, outputs);
            } catch (GantryException e) {
                TensorFrames.writeError(out, e);
                continue;
            } catch (RuntimeException e) {
                TensorFrames.writeError(out, new GantryException(ErrorCode.INTERNAL, "the model failed: " + e));
                continue;
            }
            TensorFrames.writeResult(out, result);
        }
    }
}
