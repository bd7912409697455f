package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules and dashboard only name meters the code registers: a renamed meter would silence an alert,
 * or blank a panel, for good.
 */
class AlertRulesTest {
    static final Path RULES = Path.of("..", "deploy", "prometheus", "sidewinder-alerts.yml");
    static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "sidewinder-dashboard.json");

    @Test
    void everySidewinderMetricAnAlertUsesIsOneTheInstanceExports() throws Exception {
        assertOnlyExportedMetrics(Files.readString(RULES), "alert rules");
    }

    @Test
    void everyDashboardPanelQueriesMetricsTheInstanceExports() throws Exception {
        com.fasterxml.jackson.databind.JsonNode dashboard = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(DASHBOARD.toFile());
        StringBuilder queries = new StringBuilder();
        for (var panel : dashboard.get("panels")) {
            assertTrue(panel.get("targets").size() > 0, panel.get("title") + " has a query");
            for (var target : panel.get("targets")) queries.append(target.get("expr").asText()).append('\n');
        }
        assertOnlyExportedMetrics(queries.toString(), "dashboard panels");
    }

    private static void assertOnlyExportedMetrics(String text, String what) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new PipelineMetrics(registry, new ModelRegistry("default"));
        // Registered on the first failure, as in a running instance.
        new ThreadFailurePolicy(5, Duration.ofMinutes(10), System::nanoTime, registry).handle(new IllegalStateException());
        Set<String> exported = new TreeSet<>();
        registry.scrape().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                .forEach(l -> exported.add(l.split("[{ ]", 2)[0]));

        Set<String> used = new TreeSet<>();
        Matcher m = Pattern.compile("\\bsidewinder_[a-z_]+").matcher(text);
        while (m.find()) used.add(m.group());
        assertTrue(used.size() >= 6, what + " use the pipeline's meters: " + used);
        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(exported);
        assertEquals(Set.of(), missing, what + " name meters nobody exports (exported: " + exported + ")");
    }

    @Test
    void everyRuleHasAnExpressionASeverityAndASummary() throws Exception {
        String text = Files.readString(RULES);
        int alerts = text.split("- alert: ", -1).length - 1;
        assertTrue(alerts >= 6, "alerts: " + alerts);
        assertEquals(alerts, text.split("\\n\\s+expr: ", -1).length - 1, "one expr per alert");
        assertEquals(alerts, text.split("\\n\\s+severity: (critical|warning)\\n", -1).length - 1, "one severity per alert");
        assertEquals(alerts, text.split("\\n\\s+summary: ", -1).length - 1, "one summary per alert");
    }
}
