package io.sidewinder.app.train;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.trainer.data.CsvSeries;
import io.sidewinder.trainer.eval.EttExperiment;
import io.sidewinder.trainer.eval.EttProtocol;
import io.sidewinder.trainer.eval.ForecastEvaluation;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.ForecastTrainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Offline training from a CSV file under the ETT protocol's train/validation split. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a forecaster (channel-independent Mamba, hand-written backward, AdamW) and write a model snapshot.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, description = "CSV file: a time column and value columns (e.g. ETTh1.csv).")
    Path data;

    @Option(names = "--time-column", defaultValue = "date", description = "Name of the time column (default: ${DEFAULT-VALUE}).")
    String timeColumn;

    @Option(names = "--features", defaultValue = "M", description = "M: every value column; S: the OT column only.")
    String features;

    @Option(names = "--lookback", defaultValue = "96", description = "Window length L (default: ${DEFAULT-VALUE}).")
    int lookback;

    @Option(names = "--horizon", defaultValue = "96", description = "Forecast horizon H (default: ${DEFAULT-VALUE}).")
    int horizon;

    @Option(names = "--epochs", defaultValue = "10") int epochs;
    @Option(names = "--samples-per-epoch", defaultValue = "4096") int samplesPerEpoch;
    @Option(names = "--batch-size", defaultValue = "32") int batchSize;
    @Option(names = "--lr", defaultValue = "3e-3") double learningRate;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--threads", defaultValue = "0", description = "Training threads (0: one per core).") int threads;
    @Option(names = "--loss", defaultValue = "GAUSSIAN_NLL", description = "GAUSSIAN_NLL or MSE.") TrainableModel.Loss loss;
    @Option(names = "--d-model", defaultValue = "32") int dModel;
    @Option(names = "--layers", defaultValue = "2") int layers;
    @Option(names = "--d-state", defaultValue = "16") int dState;

    @Option(names = "--out", required = true, description = "Where to write the ModelSnapshot (.avro).")
    Path out;

    @Option(names = "--model-id", defaultValue = "default") String modelId;
    @Option(names = "--version", defaultValue = "1") long version;

    @Override
    public Integer call() throws Exception {
        CsvSeries csv = CsvSeries.read(data, timeColumn, null);
        EttProtocol protocol = EttProtocol.forFile(data.getFileName().toString(), lookback, horizon);
        EttExperiment exp = new EttExperiment(csv, protocol, features.equalsIgnoreCase("S"));
        ModelConfig config = exp.modelConfig(ModelConfig.defaults(1).withShape(dModel, layers, dState, horizon));
        TrainableModel model = new TrainableModel(ModelParameters.initialise(config, seed));
        ForecastTrainer.Options options = ForecastTrainer.Options.defaults().withEpochs(epochs).withSeed(seed)
                .withThreads(threads > 0 ? threads : Runtime.getRuntime().availableProcessors())
                .withSamplesPerEpoch(samplesPerEpoch).withLoss(loss).withLearningRate(learningRate);
        options = new ForecastTrainer.Options(options.epochs(), batchSize, options.learningRate(), options.weightDecay(),
                options.clipNorm(), options.warmupFraction(), options.patience(), options.seed(), options.threads(),
                options.samplesPerEpoch(), options.loss());
        long t0 = System.nanoTime();
        ProgressBar bar = new ProgressBar();
        ForecastTrainer.Result r = exp.train(model, options, bar);
        bar.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;
        ModelParameters trained = model.toParameters();
        ForecastEvaluation.Result val = exp.evaluate(trained, EttProtocol.Split.VAL);
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("data", data.toAbsolutePath().toString());
        provenance.put("data.train_rows", "[0, " + protocol.trainEnd() + ")");
        provenance.put("features", features);
        provenance.put("seed", Long.toString(seed));
        provenance.put("epochs", r.epochsRun() + " (best " + r.bestEpoch() + ")");
        provenance.put("loss", loss.name());
        provenance.put("code_version", String.valueOf(TrainCommand.class.getPackage().getImplementationVersion()));
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("val_mse", val.mse());
        metrics.put("val_mae", val.mae());
        metrics.put("train_seconds", seconds);
        metrics.put("samples_per_second", r.samplesPerSecond());
        ModelSnapshot snapshot = ModelSnapshots.toSnapshot(trained, modelId, version, provenance, metrics);
        ModelSnapshots.write(snapshot, out);
        System.out.printf(Locale.ROOT, "train: %d epochs (best %d) in %.0f s, %.0f samples/s, val mse=%.4f mae=%.4f -> %s%n",
                r.epochsRun(), r.bestEpoch(), seconds, r.samplesPerSecond(), val.mse(), val.mae(), out);
        return 0;
    }

    /** One live line: epoch, step, loss, validation loss, samples/s, ETA. */
    static final class ProgressBar implements ForecastTrainer.Progress {
        private double lastVal = Double.NaN;
        private long lastPrint;
        private final long start = System.nanoTime();

        @Override
        public void update(int epoch, int epochs, long step, long steps, double trainLoss, double valLoss, double sps) {
            if (!Double.isNaN(valLoss)) {
                lastVal = valLoss;
            }
            long now = System.nanoTime();
            if (now - lastPrint < 200_000_000L && Double.isNaN(valLoss)) {
                return;
            }
            lastPrint = now;
            double elapsed = (now - start) / 1e9, eta = step == 0 ? 0 : elapsed * (steps - step) / step;
            int width = 24, done = (int) (width * step / Math.max(1, steps));
            System.err.printf(Locale.ROOT, "\r[%s%s] epoch %d/%d step %d/%d loss %s val-mse %s %5.0f samples/s ETA %s   ",
                    "#".repeat(done), ".".repeat(width - done), epoch + 1, epochs, step, steps,
                    Double.isNaN(trainLoss) ? "  -   " : String.format(Locale.ROOT, "%.4f", trainLoss),
                    Double.isNaN(lastVal) ? "  -   " : String.format(Locale.ROOT, "%.4f", lastVal), sps,
                    String.format(Locale.ROOT, "%d:%02d", (long) eta / 60, (long) eta % 60));
        }

        void finish() {
            System.err.println();
        }
    }
}
