package dev.gantry.store.repository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A {@link ModelRepository} read from the file system on every scan. */
final class DiskModelRepository implements ModelRepository {
    private static final Logger LOG = LoggerFactory.getLogger(DiskModelRepository.class);

    static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern VERSION_NAME = Pattern.compile("[1-9][0-9]{0,17}");

    private final Path root;

    DiskModelRepository(Path root) {
        this.root = root;
    }

    @Override
    public Path root() {
        return root;
    }

    @Override
    public List<ModelEntry> scan() {
        List<ModelEntry> models = new ArrayList<>();
        for (Path directory : children(root)) {
            String name = directory.getFileName().toString();
            if (isHidden(name) || !Files.isDirectory(directory)) {
                continue;
            }
            if (!MODEL_NAME.matcher(name).matches()) {
                LOG.warn("Skipping directory '{}' in model repository {}: not a valid model name "
                        + "(letters, digits, '_', '.', '-', starting with a letter or digit, at most 128)", name, root);
                continue;
            }
            models.add(read(name, directory));
        }
        return List.copyOf(models);
    }

    @Override
    public Optional<ModelEntry> find(String modelName) {
        if (!MODEL_NAME.matcher(modelName).matches()) {
            return Optional.empty();
        }
        Path directory = root.resolve(modelName);
        if (!Files.isDirectory(directory)) {
            return Optional.empty();
        }
        return Optional.of(read(modelName, directory));
    }

    private static ModelEntry read(String name, Path directory) {
        List<String> problems = new ArrayList<>();
        ModelConfig config = config(name, directory, problems);
        List<ModelVersionEntry> versions = new ArrayList<>();
        for (Path versionDirectory : children(directory, problems)) {
            String versionName = versionDirectory.getFileName().toString();
            if (isHidden(versionName) || !Files.isDirectory(versionDirectory)) {
                continue;
            }
            if (!VERSION_NAME.matcher(versionName).matches()) {
                problems.add("version directory '" + versionName + "' skipped: not a positive integer");
                continue;
            }
            long version = Long.parseLong(versionName);
            Path modelFile = versionDirectory.resolve(config.defaultModelFilename());
            if (!Files.exists(modelFile)) {
                problems.add("version " + version + ": " + config.defaultModelFilename() + " missing");
                continue;
            }
            versions.add(new ModelVersionEntry(version, versionDirectory, modelFile));
        }
        if (config.versionPolicy() instanceof VersionPolicy.Specific specific) {
            List<Long> onDisk = versions.stream().map(ModelVersionEntry::version).toList();
            for (long wanted : specific.versions()) {
                if (!onDisk.contains(wanted)) {
                    problems.add("version " + wanted + ": requested by version_policy but not available");
                }
            }
        }
        ModelEntry entry = new ModelEntry(name, directory, config, versions, problems);
        if (entry.versionsToLoad().isEmpty()) {
            problems.add("no version to load");
            entry = new ModelEntry(name, directory, config, versions, problems);
        }
        for (String warning : config.warnings()) {
            LOG.warn("Model '{}' configuration: {}", name, warning);
        }
        for (String problem : entry.problems()) {
            LOG.warn("Model '{}': {}", name, problem);
        }
        return entry;
    }

    private static ModelConfig config(String name, Path directory, List<String> problems) {
        Path json = directory.resolve(ModelConfigParser.JSON_FILE);
        Path pbtxt = directory.resolve(ModelConfigParser.PBTXT_FILE);
        boolean hasJson = Files.isRegularFile(json);
        boolean hasPbtxt = Files.isRegularFile(pbtxt);
        try {
            if (hasJson) {
                ModelConfig config = ModelConfigParser.parseJson(Files.readString(json), name);
                return hasPbtxt
                        ? config.withWarning("both config.json and config.pbtxt present: using config.json")
                        : config;
            }
            if (hasPbtxt) {
                return ModelConfigParser.parsePbtxt(Files.readString(pbtxt), name);
            }
            return ModelConfig.defaults();
        } catch (ModelConfigException e) {
            problems.add(ModelEntry.CONFIG_FAILED + e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            Path file = hasJson ? json : pbtxt;
            problems.add(ModelEntry.CONFIG_FAILED + "cannot read " + file.getFileName() + ": " + e);
        }
        return ModelConfig.defaults();
    }

    private static List<Path> children(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list model repository " + directory, e);
        }
    }

    private static List<Path> children(Path directory, List<String> problems) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.toList();
        } catch (IOException e) {
            problems.add("cannot list " + directory + ": " + e);
            return List.of();
        }
    }

    private static boolean isHidden(String fileName) {
        return fileName.startsWith(".");
    }
}
