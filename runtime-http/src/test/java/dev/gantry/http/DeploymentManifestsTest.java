package dev.gantry.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.http.testing.ServerFixture;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment files as the server sees them: deploy/kubernetes parsed into the Kubernetes API types (fabric8's
 * model classes) and docker/compose.yaml parsed as YAML, cross-checked against the server's own flags, ports,
 * routes, metrics and drain. (Nothing here runs Docker or a cluster: neither is available where Gantry is built.)
 */
class DeploymentManifestsTest {
    private static final Path KUBERNETES = Path.of("..", "deploy", "kubernetes");
    private static final Path COMPOSE = Path.of("..", "docker", "compose.yaml");
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true).build();
    /**
     * Flags the manifests use that land with the PostgreSQL catalogue (issue 15, item 1, another branch): accepted
     * here while the parser does not know them yet; once it does, they are checked like every other flag.
     */
    /** Flags whose value is a file the parser reads: parsed with a placeholder file in its place. */
    private static final Set<String> FILE_FLAGS = Set.of("--s3-credentials-file", "--catalog-password-file");

    private static <T> T manifest(String file, Class<T> type) throws IOException {
        return YAML.readValue(KUBERNETES.resolve(file).toFile(), type);
    }

    private static Container gantry(Deployment d) {
        List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size(), "one container per pod");
        return containers.get(0);
    }

    private static int port(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + name));
    }

    /**
     * The server configuration the args give, as the parser reads them: files the parser reads are replaced by a
     * placeholder (a key pair file, whose first line also serves as a password), and GANTRY_* variables of the
     * container that are not settings (read by name, like GANTRY_CATALOG_USER) get a placeholder value. Pending
     * flags are left out while the parser does not know them.
     */
    private static ServerConfig parsed(List<String> args, List<String> envNames) throws Exception {
        Set<String> known = ServerConfigParser.SETTINGS.stream().map(ServerConfigParser.Setting::flag)
                .collect(Collectors.toSet());
        Set<String> settingsEnv = ServerConfigParser.SETTINGS.stream().map(ServerConfigParser.Setting::env)
                .collect(Collectors.toSet());
        Path placeholder = Files.createTempFile("gantry-manifest-", ".properties");
        Files.writeString(placeholder, "access_key_id=placeholder\nsecret_access_key=placeholder\n");
        placeholder.toFile().deleteOnExit();
        List<String> parseable = new ArrayList<>();
        for (String arg : args) {
            assertTrue(arg.startsWith("--") && arg.contains("="), "write container args as --flag=value: " + arg);
            String flag = arg.substring(0, arg.indexOf('='));
            assertTrue(known.contains(flag),
                    flag + " is not a flag of gantry serve; its flags are " + known);
            parseable.add(FILE_FLAGS.contains(flag) ? flag + "=" + placeholder : arg);
        }
        Map<String, String> env = new java.util.HashMap<>();
        for (String name : envNames) {
            if (name.startsWith("GANTRY_") && !settingsEnv.contains(name)) {
                env.put(name, "gantry");
            }
        }
        return ServerConfigParser.parse(parseable, env);
    }

    private static ServerConfig parsed(Container c) throws Exception {
        return parsed(c.getArgs(), c.getEnv().stream().map(EnvVar::getName).toList());
    }

    /** GANTRY_* variables must be settings, or variables the server or the image's entrypoint reads by name. */
    private static void checkEnvironmentNames(Iterable<String> names) throws IOException {
        Set<String> settings = ServerConfigParser.SETTINGS.stream().map(ServerConfigParser.Setting::env)
                .collect(Collectors.toSet());
        String readByName;
        StringBuilder all = new StringBuilder(Files.readString(Path.of("..", "docker", "entrypoint.sh")));
        for (String module : List.of("model-store", "runtime-core", "runtime-http")) {
            try (Stream<Path> sources = Files.walk(Path.of("..", module, "src", "main", "java"))) {
                for (Path p : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
                    all.append(Files.readString(p));
                }
            }
        }
        readByName = all.toString();
        for (String name : names) {
            if (!name.startsWith("GANTRY_") || settings.contains(name)) {
                continue;
            }
            assertTrue(readByName.contains("\"" + name + "\"") || readByName.contains("${" + name),
                    name + " is neither a setting nor read by name by the server's modules or docker/entrypoint.sh");
        }
    }

    @Test
    void deploymentArgs_areFlagsTheServerAccepts_withValidValues() throws Exception {
        Container c = gantry(manifest("deployment.yaml", Deployment.class));

        ServerConfig config = parsed(c);

        assertEquals("0.0.0.0", config.host());
        assertTrue(config.sharedArtifacts().isPresent(), "replicas share their artifacts through --artifacts s3://");
        checkEnvironmentNames(c.getEnv().stream().map(EnvVar::getName).toList());
    }

    @Test
    void containerPorts_areTheServersDefaultHttpAndGrpcPorts_andTheArgsAgree() throws Exception {
        Container c = gantry(manifest("deployment.yaml", Deployment.class));
        ServerConfig config = parsed(c);

        assertEquals(ServerConfig.defaults().port(), port(c, "http"));
        assertEquals(ServerConfig.defaults().grpcPort(), port(c, "grpc"));
        assertEquals(config.port(), port(c, "http"));
        assertEquals(config.grpcPort(), port(c, "grpc"));
    }

    @Test
    void probes_areHealthRoutesTheServerAnswers_onItsHttpPort() throws Exception {
        Container c = gantry(manifest("deployment.yaml", Deployment.class));
        Probe readiness = c.getReadinessProbe();
        Probe liveness = c.getLivenessProbe();

        assertEquals("/v2/health/ready", readiness.getHttpGet().getPath());
        assertEquals("/v2/health/live", liveness.getHttpGet().getPath());
        ServerFixture server = ServerFixture.shared();
        for (Probe p : List.of(readiness, liveness, c.getStartupProbe())) {
            assertEquals("http", p.getHttpGet().getPort().getStrVal(), "probes go to the HTTP port");
            assertEquals(200, server.get(p.getHttpGet().getPath()).statusCode(), p.getHttpGet().getPath());
        }
    }

    @Test
    void gracePeriod_exceedsThePreStopSleepPlusTheServersLongestDrain() throws Exception {
        Deployment d = manifest("deployment.yaml", Deployment.class);
        Container c = gantry(d);
        Duration drainTimeout = parsed(c).drainTimeout();
        List<String> preStop = c.getLifecycle().getPreStop().getExec().getCommand();

        assertEquals("sleep", preStop.get(0), "preStop waits for the endpoints to drop the pod: " + preStop);
        long sleep = Long.parseLong(preStop.get(1));
        long grace = d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
        assertTrue(grace > sleep + Drain.longestStop(drainTimeout).toSeconds(), "terminationGracePeriodSeconds "
                + grace + " must exceed the preStop sleep " + sleep + " s plus the longest drain "
                + Drain.longestStop(drainTimeout).toSeconds() + " s (--drain-timeout-ms " + drainTimeout.toMillis()
                + ")");
    }

    @Test
    void container_requestsCpuAndMemory_andLimitsMemory() throws Exception {
        Container c = gantry(manifest("deployment.yaml", Deployment.class));
        Map<String, Quantity> requests = c.getResources().getRequests();
        Map<String, Quantity> limits = c.getResources().getLimits();

        assertNotNull(requests.get("cpu"), "cpu request");
        assertNotNull(requests.get("memory"), "memory request");
        assertTrue(Quantity.getAmountInBytes(limits.get("memory")).compareTo(
                Quantity.getAmountInBytes(requests.get("memory"))) >= 0, "memory limit below its request");
    }

    @Test
    void service_exposesHttpAndGrpc_onTheContainersNamedPorts() throws Exception {
        Deployment d = manifest("deployment.yaml", Deployment.class);
        Service s = manifest("service.yaml", Service.class);

        assertEquals(d.getSpec().getTemplate().getMetadata().getLabels(), s.getSpec().getSelector());
        Map<String, ServicePort> ports = s.getSpec().getPorts().stream()
                .collect(Collectors.toMap(ServicePort::getName, p -> p));
        assertEquals(Set.of("http", "grpc"), ports.keySet());
        for (ServicePort p : ports.values()) {
            assertEquals(p.getName(), p.getTargetPort().getStrVal());
            assertEquals(port(gantry(d), p.getName()), p.getPort());
        }
    }

    @Test
    void disruptionBudget_selectsTheDeploymentsPods_andLetsOneGoAtATime() throws Exception {
        Deployment d = manifest("deployment.yaml", Deployment.class);
        PodDisruptionBudget pdb = manifest("pdb.yaml", PodDisruptionBudget.class);

        assertEquals(d.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector().getMatchLabels());
        assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal());
        assertTrue(d.getSpec().getReplicas() > 1, "a budget of one unavailable needs more than one replica");
    }

    @Test
    void autoscaler_scalesTheDeployment_onTheQueueMetricGantryExports() throws Exception {
        Deployment d = manifest("deployment.yaml", Deployment.class);
        HorizontalPodAutoscaler hpa = manifest("hpa.yaml", HorizontalPodAutoscaler.class);

        assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind());
        assertEquals(d.getMetadata().getName(), hpa.getSpec().getScaleTargetRef().getName());
        assertTrue(hpa.getSpec().getMinReplicas() >= d.getSpec().getReplicas());
        MetricSpec metric = hpa.getSpec().getMetrics().get(0);
        String name = metric.getPods().getMetric().getName();
        assertEquals(new PrometheusNamingConvention().name(MetricNames.INFERENCE_QUEUE_PENDING.meterName(),
                Meter.Type.GAUGE), name);
        String scrape = ServerFixture.shared().get("/metrics").body();
        assertTrue(scrape.contains("\n" + name + "{"), name + " is not in the server's /metrics");
    }

    @Test
    void secrets_holdEveryKeyTheDeploymentReads_andSecretFilesAreMountedWhereTheArgsPoint() throws Exception {
        Deployment d = manifest("deployment.yaml", Deployment.class);
        Secret secret = manifest("secret.yaml", Secret.class);
        Container c = gantry(d);
        Set<String> keys = secret.getStringData().keySet();

        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                assertEquals(secret.getMetadata().getName(), e.getValueFrom().getSecretKeyRef().getName());
                assertTrue(keys.contains(e.getValueFrom().getSecretKeyRef().getKey()), e.getName());
            }
        }
        List<String> mountedFiles = new ArrayList<>();
        for (Volume v : d.getSpec().getTemplate().getSpec().getVolumes()) {
            if (v.getSecret() == null) {
                continue;
            }
            String mountPath = c.getVolumeMounts().stream().filter(m -> m.getName().equals(v.getName()))
                    .map(VolumeMount::getMountPath).findFirst().orElseThrow();
            for (KeyToPath item : v.getSecret().getItems()) {
                assertTrue(keys.contains(item.getKey()), item.getKey() + " is not in the Secret");
                mountedFiles.add(mountPath + "/" + item.getPath());
            }
        }
        for (String arg : c.getArgs()) {
            String flag = arg.substring(0, arg.indexOf('='));
            if (flag.endsWith("-file")) {
                assertTrue(mountedFiles.contains(arg.substring(arg.indexOf('=') + 1)),
                        arg + " points at no mounted secret file; mounted: " + mountedFiles);
            }
        }
        assertFalse(c.getArgs().stream().anyMatch(a -> a.toLowerCase().contains("secret-access-key")
                || a.toLowerCase().contains("password=")), "no secret on the command line");
    }

    /**
     * compose.yaml's services, read with SnakeYAML (which Jackson's YAML module parses with): unlike Jackson's tree
     * it resolves aliases and merge keys ({@code <<: *gantry-replica}), as Docker Compose does.
     */
    private static Map<String, JsonNode> composeServices() throws IOException {
        Object loaded = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.LoaderOptions())
                .load(Files.readString(COMPOSE));
        JsonNode root = YAML.valueToTree(loaded);
        Map<String, JsonNode> services = new java.util.LinkedHashMap<>();
        root.path("services").fields().forEachRemaining(e -> services.put(e.getKey(), e.getValue()));
        return services;
    }

    @Test
    void composeReplicasProfile_runsThreeReplicasWithFlagsTheServerAccepts_andKeepsTheDefaultServices()
            throws Exception {
        Map<String, JsonNode> services = composeServices();

        for (String always : List.of("gantry", "prometheus", "grafana")) {
            assertTrue(services.get(always).path("profiles").isMissingNode(), always + " must start without a profile");
        }
        List<String> replicas = services.entrySet().stream()
                .filter(e -> e.getValue().path("profiles").toString().contains("replicas")
                        && e.getValue().has("command") && e.getValue().path("build").path("dockerfile").asText()
                        .equals("docker/Dockerfile"))
                .map(Map.Entry::getKey).toList();
        assertEquals(List.of("gantry-1", "gantry-2", "gantry-3"), replicas);
        for (String replica : replicas) {
            JsonNode service = services.get(replica);
            List<String> args = new ArrayList<>();
            service.path("command").forEach(a -> args.add(a.asText()));
            List<String> env = new ArrayList<>();
            service.path("environment").fieldNames().forEachRemaining(env::add);
            ServerConfig config = parsed(args, env);
            assertTrue(config.sharedArtifacts().isPresent(), replica + " shares artifacts");
            assertTrue(config.sharedArtifacts().get().endpoint().isPresent(), replica + " talks to the compose S3");
            checkEnvironmentNames(env);
            Duration grace = Duration.ofSeconds(Long.parseLong(service.path("stop_grace_period").asText()
                    .replace("s", "")));
            assertTrue(grace.compareTo(Drain.longestStop(config.drainTimeout())) >= 0,
                    replica + ": stop_grace_period " + grace + " is shorter than the longest drain");
        }
        for (String shared : List.of("postgres", "minio", "load-balancer")) {
            assertTrue(services.get(shared).path("profiles").toString().contains("replicas"), shared);
        }
    }
}
