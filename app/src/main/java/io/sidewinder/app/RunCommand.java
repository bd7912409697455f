package io.sidewinder.app;

import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the stream processors alone against an existing Kafka cluster. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the stream processors against a Kafka cluster (settings: file, then SIDEWINDER_*/KAFKA_* "
                + "environment variables, then flags).")
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", description = "A properties file of settings (see --list-config).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka brokers, host:port[,host:port...].")
    String bootstrapServers;

    @Option(names = "--create-topics", description = "Create missing input, output and models topics first.")
    boolean createTopics;

    @Option(names = "--list-config", description = "Print every setting with its default and documentation, then exit.")
    boolean listConfig;

    @Override
    public Integer call() throws Exception {
        if (listConfig) {
            System.out.print(SidewinderConfig.documentation());
            return 0;
        }
        Map<String, Object> overrides = new HashMap<>();
        if (bootstrapServers != null) {
            overrides.put(SidewinderConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        SidewinderConfig cfg = SidewinderConfig.load(config, System.getenv(), overrides);
        if (createTopics) {
            SidewinderApp.createTopics(cfg);
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (SidewinderApp app = new SidewinderApp(cfg)) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            app.start();
            if (!app.awaitRunning(Duration.ofMinutes(5))) {
                System.err.println("run: Kafka Streams did not reach RUNNING: " + app.streams().state());
                return 1;
            }
            stop.await();
        }
        return 0;
    }
}
