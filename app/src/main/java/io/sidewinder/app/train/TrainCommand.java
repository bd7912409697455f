package io.sidewinder.app.train;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.trainer.data.CsvSeries;
import io.sidewinder.trainer.data.SensorHistories;
import io.sidewinder.trainer.eval.HoldoutExperiment;
import io.sidewinder.trainer.train.Windows;
import io.sidewinder.trainer.eval.EttExperiment;
import io.sidewinder.trainer.eval.EttProtocol;
import io.sidewinder.trainer.eval.ForecastEvaluation;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.EnsembleTrainer;
import io.sidewinder.trainer.train.ForecastTrainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Offline (re)training from CSV, Avro files of SensorReading, or a readings topic. */
@Command(name = "train", sortOptions = false,
        description = "Train a forecaster (channel-independent Mamba, hand-written backward, AdamW) and write a model snapshot.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, description = "A CSV file (a time column and value columns, e.g. "
            + "ETTh1.csv), an Avro container file of SensorReading (.avro), or kafka:<topic> (brokers from "
            + "--bootstrap-servers, --kafka-config or KAFKA_BOOTSTRAP_SERVERS).")
    String data;

    @Option(names = "--protocol", description = "ett (the standard ETT splits, ETT CSV files only; default for ETT*.csv) or holdout "
            + "(last 20 %% of each sensor for validation; default otherwise).")
    String protocol;

    @Option(names = "--from", description = "Only with kafka: data: first event time to use (ISO-8601, default: the "
            + "beginning); refused for a file, which is read whole.")
    java.time.Instant from;

    @Option(names = "--to", description = "Only with kafka: data: event time to stop before (ISO-8601, default: now); "
            + "refused for a file.")
    java.time.Instant to;

    @picocli.CommandLine.Mixin
    ForecastWindowOptions window;

    @Option(names = "--epochs", defaultValue = "10", description = "Most epochs to train; 0 keeps the closed-form "
            + "start (default: ${DEFAULT-VALUE}).") int epochs;
    @Option(names = "--samples-per-epoch", defaultValue = "4096", description = "Training windows drawn per epoch "
            + "(default: ${DEFAULT-VALUE}).") int samplesPerEpoch;
    @Option(names = "--batch-size", defaultValue = "32", description = "Windows per AdamW step (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate of the warm-up + cosine schedule "
            + "(default: ${DEFAULT-VALUE}).") double learningRate;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of the initialisation and the window order: "
            + "a run is deterministic for a seed, backend and thread count (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--threads", defaultValue = "0", description = "Training threads (0: one per core).") int threads;
    @Option(names = "--loss", defaultValue = "GAUSSIAN_NLL", description = "GAUSSIAN_NLL, MSE (normalised units), SCALED_MSE (the series' "
            + "own units: the ETT metric on z-scored data) or SCALED_HUBER (SCALED_MSE's error under Huber's loss with "
            + "--huber-delta: spikes pull the fit linearly, not quadratically; the closed-form start is its reweighted "
            + "least squares).") TrainableModel.Loss loss;
    @Option(names = "--patience", defaultValue = "4", description = "Epochs without a better validation MSE before "
            + "training stops early (the best epoch's parameters are kept).") int patience;
    @Option(names = "--huber-delta", defaultValue = "1.0", description = "Huber's δ of SCALED_HUBER, in the series' units "
            + "(default: ${DEFAULT-VALUE}; 0.25 suits the z-scored ETT data).") double huberDelta;
    @Option(names = "--precision", description = "DOUBLE (the double-precision trainer) or "
            + "FP32 (batched fp32 forward/backward on the kernels of --backend; AdamW stays double). Default: DOUBLE, "
            + "or FP32 when --backend is given.")
    ForecastTrainer.Precision precision;
    @Option(names = "--backend", description = "Kernels of the FP32 trainer: auto, scalar, simd or cuda (the batch "
            + "scan on the GPU, the rest on the CPU; without a GPU it falls back to the CPU with one warning). "
            + "Implies --precision FP32. Default: the JVM's (-Dsidewinder.backend, else auto).")
    String backend;
    @Option(names = "--require-gpu", description = "With --backend cuda: fail instead of falling back to the CPU "
            + "when CUDA is unavailable.")
    boolean requireGpu;
    @Option(names = "--members", defaultValue = "1", description = "Train an ensemble of this many models (seeds "
            + "--seed, --seed + 1, …) side by side, --threads split between them, and serve the mean of their "
            + "forecasts: lower variance for K times the serving cost (default: ${DEFAULT-VALUE}, a single model).")
    int members;
    @Option(names = "--d-model", defaultValue = "32", description = "Width of the Mamba blocks (default: ${DEFAULT-VALUE}).")
    int dModel;
    @Option(names = "--layers", defaultValue = "2", description = "Mamba blocks (default: ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--d-state", defaultValue = "16", description = "SSM state size N (default: ${DEFAULT-VALUE}).")
    int dState;
    @Option(names = "--readout-lags", description = "Readings the head also reads linearly (the lag readout; "
            + "0: none). Default: the lookback L.")
    Integer readoutLags;
    @Option(names = "--cycle", defaultValue = "auto", description = "A learned seasonal cycle per channel, removed "
            + "from the readout's lags and added back to the forecast (SeasonalCycle): none, daily (one day of the "
            + "data's row spacing), or its number of phases. auto: daily for the ETT protocol, none otherwise "
            + "(a cycle keeps one profile per training series, which the ETT channels are).")
    String cycle;
    @Option(names = "--readout-form", defaultValue = "auto", description = "How the lag readout and the cycle meet the "
            + "normaliser (ReadoutForm): normalised (lags z-scored, the cycle in normalised units), residual (lags less "
            + "the cycle centred on their own mean, the cycle in the series' units: CycleNet's form), last-value (the "
            + "same centred on the latest reading: NLinear's form), or auto: under the ETT protocol normalised, then "
            + "residual, then last-value, each taken only when its closed-form start beats the form taken so far on "
            + "validation by more than two standard errors; or mixed (with --members 2 or more): members alternate "
            + "normalised and residual, each with its own readout and cycle, and the model serves their mean forecast.")
    String readoutForm;

    @Option(names = "--out", required = true, description = "Where to write the ModelSnapshot (.avro).")
    Path out;

    @Option(names = "--checkpoint", description = "Save after every epoch here, and resume from it when it exists "
            + "(only into the same model, options and data: with kafka: data give --to).")
    Path checkpoint;

    @Option(names = "--publish", description = "Also publish to this compacted models topic if it beats the champion: "
            + "both are scored on this run's validation data; a champion of another horizon or channel count is "
            + "not compared and keeps serving.")
    String publishTopic;

    @Option(names = "--signing-key-file", description = "A file holding the key (at least 32 bytes) to sign the model "
            + "with (HMAC-SHA256): a stream with sidewinder.model.signing.key serves only snapshots signed with it.")
    Path signingKeyFile;

    @Option(names = "--force-publish", description = "With --publish: publish even when the champion scores better "
            + "or cannot be compared.")
    boolean forcePublish;

    @Option(names = "--bootstrap-servers", description = "Kafka brokers for kafka: data and --publish (default: "
            + "KAFKA_BOOTSTRAP_SERVERS, else --kafka-config's bootstrap.servers, else localhost:9092).")
    String bootstrapServers;

    @Option(names = "--kafka-config", description = "A properties file of Kafka client settings for kafka: data and "
            + "--publish: security.protocol, ssl.*, sasl.* and the like (the file `run --config` reads works: its "
            + "sidewinder.* and Streams-only keys are left out). KAFKA_X_Y environment variables set x.y after it.")
    Path kafkaConfig;

    @Option(names = "--model-id", defaultValue = "default", description = "The model id the snapshot serves under "
            + "(sidewinder.model.id; default: ${DEFAULT-VALUE}).") String modelId;
    // Not the usual -V/--version: here --version is the snapshot's, as it was before -h/--help were spelt out.
    @Option(names = {"--model-version", "--version"}, defaultValue = "1", description = "The snapshot's version; the "
            + "stream serves the highest valid one; with --publish the published model is the champion's + 1, and "
            + "--out gets that version (default: ${DEFAULT-VALUE}).") long version;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /** Settings of the topic reader and the publisher; loaded with the option checks, before any training. */
    private KafkaClientSettings kafkaClient;

    /** The kernels --backend names (null: the trainer uses this JVM's), after checking the options agree. */
    static io.sidewinder.ssm.kernels.SsmKernels kernels(String backend, ForecastTrainer.Precision precision,
                                                        boolean requireGpu, int threads) {
        if (backend == null) {
            if (requireGpu) {
                throw new IllegalArgumentException("--require-gpu needs --backend cuda");
            }
            return null;
        }
        String b = backend.trim().toLowerCase(Locale.ROOT);
        if (!java.util.Set.of("auto", "scalar", "simd", "cuda").contains(b)) {
            throw new IllegalArgumentException("--backend " + backend + " is not one of auto, scalar, simd, cuda");
        }
        if (precision == ForecastTrainer.Precision.DOUBLE) {
            throw new IllegalArgumentException("--backend " + b + " selects the kernels of the FP32 trainer, but "
                    + "--precision DOUBLE trains on the double-precision model (no kernels); use --precision FP32 "
                    + "or leave --precision out");
        }
        if (requireGpu && !b.equals("cuda")) {
            throw new IllegalArgumentException("--require-gpu needs --backend cuda, not " + b);
        }
        return io.sidewinder.ssm.kernels.Kernels.create(b, threads, requireGpu);
    }

    /** Reads a CSV file and says which rows it left out. */
    @Option(names = "--max-abs-value", defaultValue = "1e18", description = "Leave out readings with a value beyond "
            + "this magnitude, as the stream dead-letters them (its sidewinder.max.abs.value; default: ${DEFAULT-VALUE}).")
    double maxAbsValue;

    static CsvSeries readCsv(Path file, String timeColumn) throws java.io.IOException {
        return readCsv(file, timeColumn, io.sidewinder.ssm.CausalNormalizer.MAX_ABS_READING);
    }

    static CsvSeries readCsv(Path file, String timeColumn, double maxAbs) throws java.io.IOException {
        CsvSeries csv = CsvSeries.read(file, timeColumn, null, maxAbs);
        if (!csv.skipped().isEmpty()) {
            System.err.println("warning: " + csv.skipped());
        }
        return csv;
    }

    /**
     * Refuses an --out that would destroy the input or could not be written, before hours of training: the same file
     * as --data, a directory, or a folder that does not exist or is not writable.
     */
    void checkOut() throws java.io.IOException {
        Path target = out.toAbsolutePath().normalize();
        if (!data.startsWith("kafka:") && java.nio.file.Files.exists(target)
                && java.nio.file.Files.isSameFile(target, Path.of(data))) {
            throw usage("--out " + out + " is the --data file; give the model another path");
        }
        if (java.nio.file.Files.isDirectory(target)) {
            throw usage("--out " + out + " is a directory; give a file path such as " + out.resolve("model.avro"));
        }
        if (checkpoint != null && target.equals(checkpoint.toAbsolutePath().normalize())) {
            throw usage("--out and --checkpoint are the same file; give them different paths");
        }
        Path folder = target.getParent();
        if (folder == null || !java.nio.file.Files.isDirectory(folder) || !java.nio.file.Files.isWritable(folder)) {
            throw usage("--out " + out + ": folder " + folder + " does not exist or is not writable");
        }
    }

    @Override
    public Integer call() throws Exception {
        window.check(spec);
        checkOut();
        requireAtLeast("--epochs", epochs, 0);
        requireAtLeast("--samples-per-epoch", samplesPerEpoch, 1);
        requireAtLeast("--batch-size", batchSize, 1);
        requireAtLeast("--threads", threads, 0);
        requireAtLeast("--d-model", dModel, 1);
        requireAtLeast("--layers", layers, 1);
        requireAtLeast("--d-state", dState, 1);
        if (readoutLags != null) requireAtLeast("--readout-lags", readoutLags, 0);
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw usage("--lr must be a positive number, got " + learningRate);
        }
        if (patience < 1) {
            throw usage("--patience must be at least 1, got " + patience);
        }
        if (members < 1) {
            throw usage("--members must be at least 1, got " + members);
        }
        if (!(huberDelta > 0)) {
            throw usage("--huber-delta must be > 0, got " + huberDelta);
        }
        if (checkpoint != null && data.startsWith("kafka:") && to == null) {
            // A checkpoint resumes only on the data it was made on; --to's default (now) reads newer records.
            throw usage("--checkpoint with kafka: data needs --to, so that a resumed run reads the same readings");
        }
        io.sidewinder.ssm.SnapshotSignature signature = null;
        if (signingKeyFile != null) {
            try {   // before training: a key that cannot sign must not cost the run
                signature = io.sidewinder.ssm.SnapshotSignature.ofText(java.nio.file.Files.readString(signingKeyFile));
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw usage("--signing-key-file " + signingKeyFile + ": " + io.sidewinder.app.Main.describe(e));
            }
        }
        if (data.startsWith("kafka:") || publishTopic != null) {
            try {   // before training: a settings file that cannot be read must not cost the run
                kafkaClient = KafkaClientSettings.load(kafkaConfig, System.getenv(), bootstrapServers);
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                throw usage("--kafka-config: " + e.getMessage());
            }
        } else if (kafkaConfig != null || bootstrapServers != null) {
            System.err.println("train: warning: --kafka-config and --bootstrap-servers are only used with kafka: data or --publish");
        }
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        io.sidewinder.ssm.kernels.SsmKernels kernels;
        try {
            kernels = kernels(backend, precision, requireGpu, nThreads);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } catch (IllegalStateException e) {
            System.err.println(spec.qualifiedName() + ": " + e.getMessage());
            return 3;   // documented: the GPU that --require-gpu asks for is not there
        }
        ForecastTrainer.Precision prec = precision != null ? precision
                : backend != null ? ForecastTrainer.Precision.FP32 : ForecastTrainer.Precision.DOUBLE;
        ForecastTrainer.Options options = ForecastTrainer.Options.defaults().withEpochs(epochs).withSeed(seed)
                .withThreads(nThreads)
                .withSamplesPerEpoch(samplesPerEpoch).withLoss(loss).withHuberDelta(huberDelta).withPatience(patience).withLearningRate(learningRate)
                .withBatchSize(batchSize).withCheckpoint(checkpoint).withPrecision(prec);
        ModelConfig base = ModelConfig.defaults(1).withShape(dModel, layers, dState, window.horizon)
                .withReadoutLags(readoutLags != null ? readoutLags : window.lookback);
        boolean kafka = data.startsWith("kafka:");
        String fileName = kafka ? data : Path.of(data).getFileName().toString();
        String proto = protocol != null ? protocol : fileName.startsWith("ETT") && fileName.endsWith(".csv") ? "ett" : "holdout";
        checkDataOptions(proto, kafka, fileName);
        long t0 = System.nanoTime();
        ProgressBar bar = new ProgressBar();
        EnsembleTrainer.Result ensemble;
        ModelParameters trained;
        double valMse, valMae;
        String range, formChoice = null;
        ModelPublisher.Referee referee;
        if (proto.equals("ett")) {
            CsvSeries csv = readCsv(Path.of(data), window.timeColumn, maxAbsValue);
            EttProtocol p = EttProtocol.forFile(fileName, window.lookback, window.horizon);
            EttExperiment exp = new EttExperiment(csv, p, window.otOnly());
            base = base.withCycle(cyclePhasesOrUsageError(true, exp.spacing()), 1);
            ModelConfig config = exp.modelConfig(base);
            checkModelSize(config);
            ReadoutForm form = readoutFormOrUsageError(config);
            if (form == null) {
                ForecastTrainer.FormChoice choice = exp.chooseReadoutForm(config, options, kernels);
                form = choice.chosen();
                formChoice = String.format(Locale.ROOT, "auto, closed-form start's validation MSE %s; gains %s",
                        formScores(choice.validationMse()), formGains(choice.gains()));
                System.err.printf(Locale.ROOT, "train: readout form %s (%s)%n", formName(form),
                        formChoice);
            }
            ensemble = trainMembers(withForm(config, form), options, kernels, (m, o, pr) -> exp.train(m, o, kernels, pr), bar);
            trained = ensemble.model();
            ForecastEvaluation.Result val = exp.evaluate(trained, EttProtocol.Split.VAL);
            referee = model -> exp.evaluate(model, EttProtocol.Split.VAL).mse();
            valMse = val.mse();
            valMae = val.mae();
            range = "rows [0, " + p.trainEnd() + ") train, [" + p.trainEnd() + ", " + p.valEnd() + ") validation";
        } else if (proto.equals("holdout")) {
            Map<String, Windows.Series> sensors;
            if (kafka) {
                TopicHistory.Result h = TopicHistory.read(kafkaClient, data.substring("kafka:".length()),
                        from == null ? java.time.Instant.EPOCH : from, to == null ? java.time.Instant.now() : to);
                sensors = h.histories().series(maxAbsValue);
                System.err.printf("train: %d records from %s (%d undecodable, %d dropped: out of order, non-finite, out of range "
                        + "or another channel count), %d sensors%n",
                        h.records(), data, h.undecodable(), h.histories().dropped(), sensors.size());
            } else if (fileName.endsWith(".avro")) {
                SensorHistories h = SensorHistories.readAvro(Path.of(data));
                sensors = h.series(maxAbsValue);
                System.err.printf("train: %d sensors from %s (%d readings dropped: out of order, non-finite, out of range or "
                        + "another channel count)%n",
                        sensors.size(), data, h.dropped());
            } else {
                CsvSeries csv = readCsv(Path.of(data), window.timeColumn, maxAbsValue);
                sensors = Map.of(fileName, new Windows.Series(csv.times(), csv.values()));
            }
            // Any valid --cycle other than none/auto is refused here; validating against hourly rows keeps the
            // message about the option's value for a value that is not valid anywhere.
            if (cyclePhasesOrUsageError(false, 3_600_000L) > 0) {
                throw usage("--cycle " + cycle
                        + " needs the ett protocol: a cycle keeps one profile per training series, and the holdout "
                        + "protocol's series are not the channels the stream serves");
            }
            HoldoutExperiment exp = new HoldoutExperiment(sensors.values(), window.lookback);
            ModelConfig config = exp.modelConfig(base, window.horizon);
            checkModelSize(config);
            ReadoutForm form = readoutFormOrUsageError(config);
            ensemble = trainMembers(withForm(config, form == null ? ReadoutForm.NORMALISED : form), options, kernels,
                    (m, o, pr) -> exp.train(m, o, kernels, pr), bar);
            trained = ensemble.model();
            // a single model's validation MSE is the trainer's; an ensemble's, the same metric through its forecast
            valMse = members == 1 ? ensemble.members().get(0).bestValidationMse() : exp.validationMse(trained);
            referee = exp::validationMse;
            valMae = Double.NaN;
            range = "first 80 % of each sensor train, last 20 % validation; " + (from == null ? "" : "from " + from + " ")
                    + (to == null ? "" : "to " + to);
        } else {
            throw new IllegalStateException("protocol " + proto + " passed checkDataOptions");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("data", kafka ? data : Path.of(data).toAbsolutePath().toString());
        provenance.put("data.range", range);
        provenance.put("protocol", proto);
        provenance.put("features", window.features.name());
        provenance.put("seed", Long.toString(seed));
        provenance.put("precision", prec.name());
        if (prec == ForecastTrainer.Precision.FP32) {
            provenance.put("backend", backend == null ? "jvm default" : backend.trim().toLowerCase(Locale.ROOT));
            provenance.put("kernels", (kernels != null ? kernels : io.sidewinder.ssm.kernels.Kernels.get()).name());
        }
        ForecastTrainer.Result first = ensemble.members().get(0);
        provenance.put("epochs", members == 1 ? epochs(first) : epochsSummary(ensemble));
        if (members > 1) {
            provenance.put("members", members + " (seeds " + seed + ".." + (seed + members - 1) + ")");
        }
        provenance.put("loss", loss.name());
        if (trained.config().readoutLags() > 0) {
            String f = formName(trained.config().readoutForm());
            provenance.put("readout_form", formChoice == null ? f : f + " (" + formChoice + ")");
        }
        provenance.put("code_version", io.sidewinder.app.BuildInfo.version());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("val_mse", valMse);
        if (!Double.isNaN(valMae)) metrics.put("val_mae", valMae);
        metrics.put("train_seconds", seconds);
        metrics.put("samples_per_second", ensemble.samplesPerSecond());
        ModelSnapshot snapshot = ModelSnapshots.toSnapshot(trained, modelId, version, provenance, metrics);
        if (signature != null) snapshot = signature.sign(snapshot);
        // The file first: a broker that is down at the end of a long run must not cost the trained model.
        ModelSnapshots.write(snapshot, out);
        if (publishTopic != null) {
            ModelPublisher.Decision d;
            try {
                d = new ModelPublisher(kafkaClient, publishTopic, signature).offer(snapshot, referee, forcePublish);
            } catch (Exception e) {   // a broker that is down: ExecutionException, TimeoutException, KafkaException
                throw new IllegalStateException("publishing to " + publishTopic + " failed (" + e.getMessage()
                        + "); the trained model is in " + out, e);
            }
            System.out.printf(Locale.ROOT, "publish: %s v%d to %s (%s)%n", d.published() ? "published" : "kept the champion",
                    d.version(), publishTopic, d.reason());
            if (d.published()) {
                ModelSnapshots.write(d.snapshot(), out);   // the file is the published model, version and all
            }
        }
        // The holdout protocol validates on MSE only: say so rather than print NaN.
        String mae = Double.isNaN(valMae) ? "n/a" : String.format(Locale.ROOT, "%.4f", valMae);
        for (int k = 1; k < members; k++) {
            ForecastTrainer.Result m = ensemble.members().get(k);
            System.out.printf(Locale.ROOT, "train: member %d (seed %d): %s, val mse=%.4f%n", k,
                    seed + k, epochs(m), m.bestValidationMse());
        }
        System.out.printf(Locale.ROOT, "train: %s in %.0f s, %.0f samples/s, val mse=%.4f mae=%s -> %s%n",
                epochsSummary(ensemble), seconds, ensemble.samplesPerSecond(), valMse, mae, out);
        if (prec == ForecastTrainer.Precision.FP32) {
            System.out.println("train: kernels " + provenance.get("kernels"));
        }
        return 0;
    }

    /** "E epochs (best B)" for a single model, per member for an ensemble. */
    private static String epochsSummary(EnsembleTrainer.Result e) {
        if (e.members().size() == 1) {
            return epochs(e.members().get(0));
        }
        StringBuilder b = new StringBuilder(e.members().size() + " members: ");
        for (int k = 0; k < e.members().size(); k++) {
            b.append(k == 0 ? "" : ", ").append(epochs(e.members().get(k)));
        }
        return b.toString();
    }

    /** "E epochs (best: epoch B)", epochs counted from 1 as the progress bar does, or the closed-form start. */
    static String epochs(ForecastTrainer.Result r) {
        return r.epochsRun() + (r.epochsRun() == 1 ? " epoch" : " epochs") + " (best: "
                + (r.bestEpoch() < 0 ? "the closed-form start" : "epoch " + (r.bestEpoch() + 1)) + ")";
    }

    private void requireAtLeast(String option, int value, int min) {
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, option, value, min);
    }

    /** Options that only some data or protocols take: refused, not silently ignored (or recorded as applied). */
    private void checkDataOptions(String proto, boolean kafka, String fileName) {
        if (!proto.equals("ett") && !proto.equals("holdout")) {
            throw usage("unknown --protocol '" + proto + "' (ett, holdout)");
        }
        if (!kafka && (from != null || to != null)) {
            throw usage("--from and --to select the event times of kafka: data; a file is read whole (cut its rows "
                    + "instead)");
        }
        if (proto.equals("ett") && (kafka || !fileName.toLowerCase(Locale.ROOT).endsWith(".csv"))) {
            throw usage("--protocol ett reads an ETT CSV file (ETTh1.csv, ETTm1.csv, …), not " + data);
        }
        if (proto.equals("holdout") && window.otOnly()) {
            throw usage("--features S (the OT column only) belongs to the ett protocol; the holdout protocol trains "
                    + "one univariate model on every value column");
        }
    }

    private picocli.CommandLine.ParameterException usage(String message) {
        return io.sidewinder.app.OptionChecks.usage(spec, message);
    }

    /** Parameters above which a model is refused before it is allocated (the trainer keeps four copies in double). */
    static final long MAX_TRAINED_PARAMETERS = 25_000_000;

    /**
     * Refuses a model too large to train, before anything of its size is allocated (the readout-form choice fits
     * three): --members of them train side by side, each with its gradients and AdamW's two moments.
     */
    private void checkModelSize(ModelConfig config) {
        long parameters;
        try {
            parameters = Math.multiplyExact(ModelParameters.parameterCount(config.withMembers(1)), (long) members);
        } catch (io.sidewinder.ssm.InvalidModelException | ArithmeticException e) {
            throw usage("the options make no trainable model: " + e.getMessage());
        }
        if (parameters > MAX_TRAINED_PARAMETERS) {
            throw usage(String.format(Locale.ROOT, "the model%s would have %,d parameters (more than %,d): lower "
                    + "--d-model (%d) or --layers (%d), or the readout's 2·horizon × lags (2·%d × %d)",
                    members > 1 ? "s (" + members + " members)" : "", parameters, MAX_TRAINED_PARAMETERS,
                    config.dModel(), config.layers(), config.horizon(), config.readoutLags()));
        }
    }

    /**
     * Trains --members models of {@code config} (one for a single model) with the live bar showing member 0.
     * Members train side by side unless the kernels are CUDA's (its resident training step is one per run).
     */
    private EnsembleTrainer.Result trainMembers(ModelConfig config, ForecastTrainer.Options options,
                                                io.sidewinder.ssm.kernels.SsmKernels kernels,
                                                EnsembleTrainer.MemberTraining training, ProgressBar bar) throws Exception {
        boolean sideBySide = !(kernels != null ? kernels : io.sidewinder.ssm.kernels.Kernels.get()).name().startsWith("cuda");
        EnsembleTrainer.Result e = EnsembleTrainer.train(config, options, sideBySide, training, bar);
        bar.finish();
        return e;
    }

    /** The form --readout-form names for {@code config}: null for auto (choose by validation), NORMALISED without lags. */
    private ReadoutForm readoutFormOrUsageError(ModelConfig config) {
        String f = readoutForm.trim().toLowerCase(Locale.ROOT);
        ReadoutForm form = switch (f) {
            case "auto" -> null;
            case "normalised", "normalized" -> ReadoutForm.NORMALISED;
            case "residual" -> ReadoutForm.RESIDUAL;
            case "last-value", "last_value" -> ReadoutForm.LAST_VALUE;
            case "mixed" -> ReadoutForm.MIXED;
            default -> throw usage(
                    "--readout-form " + readoutForm + " is not auto, normalised, residual, last-value or mixed");
        };
        if (form == ReadoutForm.MIXED && members < 2) {
            throw usage("--readout-form mixed alternates the forms over an ensemble's members: it needs --members 2 or more");
        }
        if (config.readoutLags() > 0) return form;
        if (form != null && (form.centred() || form == ReadoutForm.MIXED)) {
            throw usage("--readout-form " + f
                    + " centres the readout's lags, and --readout-lags 0 leaves none");
        }
        return ReadoutForm.NORMALISED;
    }

    /** The --members ensemble (or single model) of {@code config} in {@code form}. */
    private ModelConfig withForm(ModelConfig config, ReadoutForm form) {
        return form == ReadoutForm.MIXED ? config.withMembers(members).withReadoutForm(form)
                : config.withReadoutForm(form).withMembers(members);
    }

    private static String formScores(Map<ReadoutForm, Double> scores) {
        StringBuilder b = new StringBuilder();
        scores.forEach((f, v) -> b.append(b.isEmpty() ? "" : ", ").append(formName(f))
                .append(String.format(Locale.ROOT, " %.4f", v)));
        return b.toString();
    }

    private static String formGains(Map<ReadoutForm, ForecastTrainer.Gain> gains) {
        StringBuilder b = new StringBuilder();
        gains.forEach((f, g) -> b.append(b.isEmpty() ? "" : ", ").append(formName(f)).append(" over ")
                .append(formName(g.over())).append(String.format(Locale.ROOT, " %.5f ± %.5f", g.mean(), g.standardError())));
        return b.toString();
    }

    /** A form as --readout-form names it. */
    static String formName(ReadoutForm form) {
        return form.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private int cyclePhasesOrUsageError(boolean ett, long spacing) {
        try {
            return cyclePhases(cycle, ett, spacing);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** The cycle's phase count --cycle names for data of {@code spacing} ms rows (0: none). */
    public static int cyclePhases(String cycle, boolean ett, long spacing) {
        String c = cycle.trim().toLowerCase(Locale.ROOT);
        if (c.equals("none") || c.equals("0") || (c.equals("auto") && !ett)) return 0;
        if (c.equals("auto") || c.equals("daily")) {
            long day = 86_400_000L;
            if (spacing <= 0 || day % spacing != 0 || day / spacing < 2 || day / spacing > 10_000) {
                throw new IllegalArgumentException("--cycle " + cycle + ": a day is not a whole number (2 to 10000) of "
                        + spacing + " ms rows; give the number of phases");
            }
            return (int) (day / spacing);
        }
        try {
            int p = Integer.parseInt(c);
            if (p < 2 || p > 10_000) throw new NumberFormatException();
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--cycle " + cycle + " is not none, auto, daily or a phase count 2..10000");
        }
    }

    /** One live line: epoch, step, loss, validation loss, samples/s, ETA. */
    static final class ProgressBar implements ForecastTrainer.Progress {
        private double lastVal = Double.NaN;
        private long lastPrint;
        private final long start = System.nanoTime();
        /** On a terminal one line redrawn in place; in a log one line per validated epoch. */
        private final boolean terminal = System.console() != null && System.console().isTerminal();

        @Override
        public void update(int epoch, int epochs, long step, long steps, double trainLoss, double valLoss, double sps) {
            if (!Double.isNaN(valLoss)) {
                lastVal = valLoss;
            }
            long now = System.nanoTime();
            if ((now - lastPrint < 200_000_000L || !terminal) && Double.isNaN(valLoss)) {
                return;
            }
            lastPrint = now;
            double elapsed = (now - start) / 1e9, eta = step == 0 ? 0 : elapsed * (steps - step) / step;
            int width = 24, done = (int) (width * step / Math.max(1, steps));
            System.err.printf(Locale.ROOT, (terminal ? "\r" : "") + "[%s%s] epoch %d/%d step %d/%d loss %s val-mse %s %5.0f samples/s ETA %s   ",
                    "#".repeat(done), ".".repeat(width - done), epoch + 1, epochs, step, steps,
                    Double.isNaN(trainLoss) ? "  -   " : String.format(Locale.ROOT, "%.4f", trainLoss),
                    Double.isNaN(lastVal) ? "  -   " : String.format(Locale.ROOT, "%.4f", lastVal), sps,
                    String.format(Locale.ROOT, "%d:%02d", (long) eta / 60, (long) eta % 60));
            if (!terminal) {
                System.err.println();
            }
        }

        void finish() {
            if (terminal) {
                System.err.println();
            }
        }
    }
}
