package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.processors.SidewinderConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * Checks the deployment files (deploy/, docker-compose.yml) against the code, since neither Docker nor a
 * Kubernetes cluster is available to the build: every configured key and environment variable is one the
 * application knows, and the topics compose creates are the ones the config names.
 */
class DeployFilesTest {

    private static final Path ROOT = repoRoot();
    private static final Path PROPERTIES = ROOT.resolve("deploy/sidewinder.properties");
    private static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    private static final Path K8S = ROOT.resolve("deploy/k8s");
    private static final List<String> MANIFESTS = List.of("namespace.yaml", "configmap.yaml",
            "service-headless.yaml", "service.yaml", "statefulset.yaml", "poddisruptionbudget.yaml");
    /** Read by the launcher and logback, not by SidewinderConfig. */
    private static final Set<String> LAUNCHER_VARIABLES = io.sidewinder.processors.SidewinderConfig.LAUNCHER_VARIABLES;
    private static final Pattern ENV_NAME = Pattern.compile("\\b(?:SIDEWINDER|KAFKA)_[A-Z0-9_]+\\b");

    private static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker-compose.yml")) && Files.isDirectory(p.resolve("deploy"))) {
                return p;
            }
        }
        throw new IllegalStateException("no directory with docker-compose.yml and deploy/ above "
                + Path.of("").toAbsolutePath());
    }

    private static Set<String> knownKeys() {
        Set<String> keys = new HashSet<>(SidewinderConfig.definition().names());
        keys.addAll(StreamsConfig.configDef().names());
        // Client settings pass through too (security.protocol, sasl.*, ssl.*): the producer's and consumer's own.
        keys.addAll(org.apache.kafka.clients.producer.ProducerConfig.configNames());
        keys.addAll(org.apache.kafka.clients.consumer.ConsumerConfig.configNames());
        return keys;
    }

    private static Set<String> topicConfigNames() {
        Set<String> names = new HashSet<>();
        for (var f : org.apache.kafka.common.config.TopicConfig.class.getFields()) {
            if (f.getName().endsWith("_CONFIG")) {
                try {
                    names.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return names;
    }

    private static Properties load(String text) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }

    /** SIDEWINDER_X_Y → sidewinder.x.y; KAFKA_X_Y → x.y (as SidewinderConfig reads the environment). */
    private static String keyOf(String envName) {
        String rest = envName.startsWith("KAFKA_") ? envName.substring("KAFKA_".length()) : envName;
        return rest.toLowerCase(Locale.ROOT).replace('_', '.');
    }

    private static int indent(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        return i;
    }

    /** The lines nested under the first line reading {@code header} (e.g. "sidewinder:"), up to its next sibling. */
    private static List<String> yamlBlock(String text, String header) {
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(header)) {
                int keyIndent = indent(lines.get(i));
                List<String> block = new ArrayList<>();
                for (int j = i + 1; j < lines.size(); j++) {
                    String line = lines.get(j);
                    String s = line.strip();
                    if (!s.isEmpty() && !s.startsWith("#") && indent(line) <= keyIndent) {
                        break;
                    }
                    block.add(line);
                }
                return block;
            }
        }
        throw new AssertionError("no line '" + header + "'");
    }

    private static Set<String> unknownKeysOfEnvironmentVariables(String text) {
        Set<String> known = knownKeys();
        Matcher m = ENV_NAME.matcher(text);
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            names.add(m.group());
        }
        assertTrue(names.contains("KAFKA_BOOTSTRAP_SERVERS"), "sets KAFKA_BOOTSTRAP_SERVERS: " + names);
        assertTrue(names.contains("SIDEWINDER_HTTP_HOST"), "sets SIDEWINDER_HTTP_HOST: " + names);
        return names.stream()
                .filter(n -> !LAUNCHER_VARIABLES.contains(n) && !known.contains(keyOf(n)))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Properties exampleConfig() throws IOException {
        return load(Files.readString(PROPERTIES));
    }

    private static Properties configMapProperties() throws IOException {
        List<String> block = yamlBlock(Files.readString(K8S.resolve("configmap.yaml")), "sidewinder.properties: |");
        return load(block.stream().map(String::strip).collect(Collectors.joining("\n")));
    }

    private static void assertKnownAndValid(Properties p, String what) {
        Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(knownKeys());
        unknown.removeIf(k -> k.startsWith(StreamsConfig.TOPIC_PREFIX)   // internal topics' settings: topic.<TopicConfig>
                && topicConfigNames().contains(k.substring(StreamsConfig.TOPIC_PREFIX.length())));
        assertEquals(Set.of(), unknown, what + " sets keys neither Sidewinder nor Kafka Streams knows");
        new SidewinderConfig(p); // throws ConfigException on a value of the wrong type or out of range
    }

    @Test
    void exampleConfigSetsOnlyKnownKeysWithValidValues() throws IOException {
        assertKnownAndValid(exampleConfig(), PROPERTIES.toString());
    }

    @Test
    void exampleConfigDocumentsEverySidewinderSetting() throws IOException {
        Set<String> missing = new TreeSet<>(SidewinderConfig.definition().names());
        missing.removeAll(exampleConfig().stringPropertyNames());
        assertEquals(Set.of(), missing, "settings missing from " + PROPERTIES);
    }

    @Test
    void kubernetesConfigMapSetsOnlyKnownKeysWithValidValues() throws IOException {
        Properties p = configMapProperties();
        assertFalse(p.isEmpty(), "configmap.yaml holds a sidewinder.properties");
        assertKnownAndValid(p, "configmap.yaml");
    }

    @Test
    void composeSidewinderServiceEnvironmentMapsToKnownKeys() throws IOException {
        String service = String.join("\n", yamlBlock(Files.readString(COMPOSE), "sidewinder:"));
        assertEquals(Set.of(), unknownKeysOfEnvironmentVariables(service),
                "environment variables of the compose sidewinder service that set no known key");
    }

    @Test
    void statefulSetEnvironmentMapsToKnownKeys() throws IOException {
        String statefulSet = Files.readString(K8S.resolve("statefulset.yaml"));
        assertEquals(Set.of(), unknownKeysOfEnvironmentVariables(statefulSet),
                "environment variables of the StatefulSet that set no known key");
    }

    @Test
    void theInitContainerCreatesTopicsWithTheInstancesImageAndBrokers() throws IOException {
        String statefulSet = Files.readString(K8S.resolve("statefulset.yaml"));
        Matcher image = Pattern.compile("image: (\\S+)").matcher(statefulSet);
        assertTrue(image.find());
        String first = image.group(1);
        assertTrue(image.find());
        assertEquals(first, image.group(1), "the init container runs the instance's image (kustomize sets both)");
        assertTrue(statefulSet.contains("\"--create-topics-only\""), statefulSet);
        Matcher brokers = Pattern.compile("name: KAFKA_BOOTSTRAP_SERVERS\\s+value: (\\S+)").matcher(statefulSet);
        assertTrue(brokers.find());
        String initBrokers = brokers.group(1);
        assertTrue(brokers.find(), "both containers name the brokers");
        assertEquals(initBrokers, brokers.group(1), "the init container creates the topics on the instance's cluster");
    }

    @Test
    void composeCreatesExactlyTheConfiguredTopicsWithACompactedModelsTopic() throws IOException {
        SidewinderConfig config = new SidewinderConfig(exampleConfig());
        Set<String> configured = new TreeSet<>(config.inputTopics());
        configured.add(config.getString(SidewinderConfig.FORECASTS_TOPIC));
        configured.add(config.getString(SidewinderConfig.ANOMALIES_TOPIC));
        configured.add(config.getString(SidewinderConfig.DEAD_LETTER_TOPIC));
        String models = config.getString(SidewinderConfig.MODELS_TOPIC);
        configured.add(models);

        Pattern create = Pattern.compile("--topic\\s+([A-Za-z0-9._-]+)");
        Set<String> created = new TreeSet<>();
        for (String line : yamlBlock(Files.readString(COMPOSE), "kafka-init:")) {
            Matcher m = create.matcher(line);
            if (m.find()) {
                created.add(m.group(1));
                assertEquals(m.group(1).equals(models), line.contains("cleanup.policy=compact"),
                        "only the models topic is compacted: " + line.strip());
            }
        }
        assertEquals(configured, created, "topics kafka-init creates vs. topics in " + PROPERTIES);
    }

    @Test
    void everyDeployFileExistsAndEveryManifestDeclaresApiVersionAndKind() throws IOException {
        for (String f : List.of("deploy/Dockerfile", "deploy/README.md", "deploy/sidewinder.properties",
                "docker-compose.yml")) {
            assertTrue(Files.isRegularFile(ROOT.resolve(f)), f + " exists");
        }
        List<String> all = new ArrayList<>(MANIFESTS);
        all.add("kustomization.yaml");
        for (String f : all) {
            Path p = K8S.resolve(f);
            assertTrue(Files.isRegularFile(p), p + " exists");
            List<String> lines = Files.readAllLines(p);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("apiVersion: ")), f + " has apiVersion");
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("kind: ")), f + " has kind");
        }
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        Set<String> listed = yamlBlock(Files.readString(K8S.resolve("kustomization.yaml")), "resources:").stream()
                .map(String::strip)
                .filter(l -> l.startsWith("- "))
                .map(l -> l.substring(2).strip())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(MANIFESTS), listed);
    }
}
