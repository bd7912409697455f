package io.sidewinder.processors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Executors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The read-only HTTP API: {@code GET /sensors/{id}} (latest forecast, score and state summary of a sensor,
 * routed to the instance that owns the key), {@code GET /metrics} (Prometheus text), {@code GET /health} (200
 * while Streams runs: liveness) and {@code GET /ready} (200 once a model is served too: readiness).
 */
final class QueryServer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(QueryServer.class);

    private final HttpServer server;
    private final SidewinderApp app;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private QueryServer(HttpServer server, SidewinderApp app) {
        this.server = server;
        this.app = app;
    }

    /** Statuses the /sensors endpoint answers with, relayed as they come from the owning instance. */
    private static final java.util.Set<Integer> FORWARDABLE = java.util.Set.of(200, 400, 404, 500, 503);

    /** A response body collected up to a limit; beyond it the exchange is cancelled and fails. */
    static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final java.util.concurrent.CompletableFuture<byte[]> result = new java.util.concurrent.CompletableFuture<>();
        private java.util.concurrent.Flow.Subscription subscription;

        private BoundedBody(int limit) {
            this.limit = limit;
        }

        static BoundedBody of(int limit) {
            return new BoundedBody(limit);
        }

        @Override
        public java.util.concurrent.CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(java.util.List<java.nio.ByteBuffer> items) {
            for (java.nio.ByteBuffer b : items) {
                if (bytes.size() + b.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("answer larger than " + limit + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }

    /** Requests proxied to other instances at once; beyond, 503 rather than an unbounded number of connections. */
    static final int MAX_PROXIED = 64;
    /** Largest answer relayed from another instance (a sensor's summary is a few KB). */
    static final int MAX_PROXIED_BYTES = 1 << 20;
    private final java.util.concurrent.Semaphore proxySlots = new java.util.concurrent.Semaphore(MAX_PROXIED);

    /**
     * The JDK server's limits, unset by default: a client that trickles its request would hold a connection (a file
     * descriptor RocksDB and Kafka's clients need too) for good. Read once when the server classes load, so set here,
     * unless the operator set them.
     */
    private static void limitConnections() {
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "30");
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "60");
        System.getProperties().putIfAbsent("jdk.httpserver.maxConnections", "1000");
    }

    /** Binds the port (0: any free one) without serving yet, so that Streams can be told the real port. */
    static QueryServer bind(int port, SidewinderApp app) throws IOException {
        return bind(null, port, app);
    }

    /** As above on one address ({@code bindAddress} null or empty: every interface). */
    static QueryServer bind(String bindAddress, int port, SidewinderApp app) throws IOException {
        limitConnections();
        HttpServer server = HttpServer.create(bindAddress == null || bindAddress.isEmpty()
                ? new InetSocketAddress(port) : new InetSocketAddress(bindAddress, port), 0);
        QueryServer qs = new QueryServer(server, app);
        server.createContext("/health", qs::health);
        server.createContext("/ready", qs::ready);
        server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4", app.registry().scrape()));
        server.createContext("/sensors/", qs::sensor);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        return qs;
    }

    void start() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    void stop() {
        server.stop(0);
        client.close();
    }

    private void health(HttpExchange ex) throws IOException {
        KafkaStreams.State s = app.streams().state();
        boolean ok = s == KafkaStreams.State.RUNNING || s == KafkaStreams.State.REBALANCING;
        var model = app.models().current();
        respond(ex, ok ? 200 : 503, "application/json", "{\"state\":\"" + s + "\",\"modelVersion\":"
                + (model == null ? -1 : model.version()) + "}");
    }

    private void sensor(HttpExchange ex) throws IOException {
        try {
            sensorOrError(ex);
        } catch (RuntimeException e) {
            // e.g. a stored state this version cannot read: an answer, not a dropped connection; details in the log
            LOG.warn("query {} failed: {}", ex.getRequestURI().getPath(), e.toString());
            respond(ex, 500, "application/json", "{\"error\":\"internal error; see the instance's log\"}");
        }
    }

    /** Ready to serve: Streams running and a valid model in service (before one, every reading is a dead letter). */
    private void ready(HttpExchange ex) throws IOException {
        KafkaStreams.State s = app.streams().state();
        var model = app.models().current();
        boolean ready = (s == KafkaStreams.State.RUNNING || s == KafkaStreams.State.REBALANCING) && model != null;
        respond(ex, ready ? 200 : 503, "application/json", "{\"state\":\"" + s + "\",\"modelVersion\":"
                + (model == null ? -1 : model.version()) + ",\"ready\":" + ready + "}");
    }

    private void sensorOrError(HttpExchange ex) throws IOException {
        String id = ex.getRequestURI().getPath().substring("/sensors/".length());   // getPath() is decoded once already
        if (id.isEmpty()) {
            respond(ex, 400, "application/json", "{\"error\":\"sensor id missing\"}");
            return;
        }
        KafkaStreams streams = app.streams();
        KeyQueryMetadata meta;
        try {
            meta = streams.queryMetadataForKey(SidewinderTopology.STATE_STORE, id, new StringSerializer());
        } catch (org.apache.kafka.streams.errors.InvalidStateStoreException | IllegalStateException e) {
            // Streams not started yet, shutting down or failed (a rolling restart): try again, not a server error.
            ex.getResponseHeaders().set("Retry-After", "5");
            respond(ex, 503, "application/json", "{\"error\":" + json("not serving queries now (Kafka Streams is "
                    + streams.state() + ")") + "}");
            return;
        }
        HostInfo owner = meta == null ? null : meta.activeHost();
        boolean forwarded = ex.getRequestURI().getQuery() != null && ex.getRequestURI().getQuery().contains("forwarded");
        if (owner != null && owner.port() > 0 && !isSelf(owner) && !forwarded) {
            proxy(ex, owner, id);
            return;
        }
        if (meta == null || meta.partition() < 0) {
            respond(ex, 503, "application/json", "{\"error\":\"key metadata not available (rebalancing)\"}");
            return;
        }
        byte[] bytes;
        try {
            // The key's own partition: a task that is still restoring answers 503, not a wrong 404.
            ReadOnlyKeyValueStore<String, byte[]> store = streams.store(StoreQueryParameters.fromNameAndType(
                    SidewinderTopology.STATE_STORE, QueryableStoreTypes.<String, byte[]>keyValueStore())
                    .withPartition(meta.partition()));
            bytes = store.get(id);
        } catch (RuntimeException e) {
            respond(ex, 503, "application/json", "{\"error\":\"the sensor's state store is not queryable now (restoring or "
                    + "rebalancing)\"}");
            return;
        }
        if (bytes == null) {
            respond(ex, 404, "application/json", "{\"error\":\"unknown sensor\",\"sensorId\":" + json(id) + "}");
            return;
        }
        respond(ex, 200, "application/json", describe(id, KeyState.fromBytes(bytes), bytes.length));
    }

    private boolean isSelf(HostInfo h) {
        return h.port() == port() && h.host().equals(app.config().getString(SidewinderConfig.HTTP_HOST));
    }

    private void proxy(HttpExchange ex, HostInfo owner, String id) throws IOException {
        if (!proxySlots.tryAcquire()) {
            ex.getResponseHeaders().set("Retry-After", "1");
            respond(ex, 503, "application/json", "{\"error\":\"too many queries forwarded to other instances\"}");
            return;
        }
        try {
            // The multi-argument URI constructor percent-encodes the path as a path (a space as %20, not '+').
            URI uri = new URI("http", null, owner.host(), owner.port(), "/sensors/" + id, "forwarded", null);
            // The whole exchange, body included, within 5 s and 1 MiB: a stalled or flooding owner holds no slot.
            var pending = client.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    info -> BoundedBody.of(MAX_PROXIED_BYTES));
            HttpResponse<byte[]> r;
            try {
                r = pending.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                pending.cancel(true);
                LOG.warn("a query forwarded to instance {} failed: {}", owner, e.toString());
                respond(ex, 502, "application/json", "{\"error\":\"the owning instance gave no usable answer\"}");
                return;
            }
            if (!FORWARDABLE.contains(r.statusCode())) {
                LOG.warn("instance {} answered {} to a forwarded query; not relayed", owner, r.statusCode());
                respond(ex, 502, "application/json", "{\"error\":\"the owning instance gave no usable answer\"}");
                return;
            }
            r.headers().firstValue("Retry-After").ifPresent(v -> ex.getResponseHeaders().set("Retry-After", v));
            respond(ex, r.statusCode(), "application/json", new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            respond(ex, 503, "application/json", "{\"error\":\"interrupted\"}");
        } catch (java.net.URISyntaxException e) {
            respond(ex, 400, "application/json", "{\"error\":\"sensor id not usable in a URI\"}");
        } catch (IOException e) {
            LOG.warn("instance {} owning a queried sensor is unreachable: {}", owner, e.toString());
            respond(ex, 502, "application/json", "{\"error\":\"the owning instance is unreachable\"}");
        } finally {
            proxySlots.release();
        }
    }

    static String describe(String id, KeyState s, int bytes) {
        StringBuilder sb = new StringBuilder(512);
        sb.append("{\"sensorId\":").append(json(id))
                .append(",\"modelVersion\":").append(s.modelVersion())
                .append(",\"lastEventTime\":").append(json(Instant.ofEpochMilli(s.lastEventTime()).toString()))
                .append(",\"readingsScored\":").append(s.readings())
                .append(",\"recentReadings\":").append(s.recentReadings())
                .append(",\"stateBytes\":").append(bytes)
                .append(",\"lastScore\":{\"surprise\":").append(num(s.lastSurprise()))
                .append(",\"likelihood\":").append(num(s.lastLikelihood()))
                .append(",\"flagged\":").append(s.lastFlagged())
                .append(",\"deviation\":").append(num(s.lastDeviation()))
                .append(",\"deviating\":").append(s.lastDeviating()).append('}')
                .append(",\"forecast\":{\"mean\":").append(array(s.forecastMean()))
                .append(",\"stddev\":").append(array(s.forecastStd())).append("}}");
        return sb.toString();
    }

    private static String array(float[] a) {
        if (a == null) return "null";
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < a.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(num(a[i]));
        }
        return sb.append(']').toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    static String json(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
