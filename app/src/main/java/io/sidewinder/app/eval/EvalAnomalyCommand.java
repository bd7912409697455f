package io.sidewinder.app.eval;

import io.sidewinder.evaluation.anomaly.AnomalyEvaluation;
import io.sidewinder.evaluation.anomaly.CorpusReader;
import io.sidewinder.evaluation.anomaly.LabelledStream;
import io.sidewinder.evaluation.anomaly.NabProfile;
import io.sidewinder.evaluation.anomaly.NabScorer;
import io.sidewinder.evaluation.anomaly.RandomCutForestDetector;
import io.sidewinder.evaluation.anomaly.ResultWriter;
import io.sidewinder.evaluation.anomaly.SidewinderDetector;
import io.sidewinder.evaluation.anomaly.StreamDetector;
import io.sidewinder.evaluation.anomaly.WindowedGaussianDetector;
import io.sidewinder.processors.KeyCadence;
import io.sidewinder.processors.SensorDetector;
import io.sidewinder.processors.SidewinderConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.trainer.pretrained.GeneralModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.IntUnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code eval anomaly}: replays a labelled corpus through a detector — by default the stream processor's own
 * scoring path with its default configuration — and prints NAB-style scores and point-wise F1.
 */
@Command(name = "anomaly", mixinStandardHelpOptions = true,
        description = {"Replay labelled CSV streams through the stream processor's anomaly scoring (or a baseline)",
                "and print NAB-style scores (standard, low-fp, low-fn) and point-wise F1 / FAR / MAR.",
                "NAB scores read each row's onset score (Sidewinder: the likelihood, 'did something just change?'),",
                "F1 reads its state score (Sidewinder: the deviation from the sensor's baseline, 'is it off now?');",
                "a baseline detector has one score for both.",
                "The last line is: standard=<s> low-fp=<s> low-fn=<s> f1=<f> (in-sample best thresholds)."})
public final class EvalAnomalyCommand implements Callable<Integer> {

    enum Detector { SIDEWINDER, GAUSSIAN, RCF, ALL }

    @Option(names = "--data", required = true, description = "Directory of CSV files (searched recursively), header timestamp,value or timestamp,<channel>,...")
    Path data;

    @Option(names = "--labels", required = true, description = "JSON: file path relative to --data -> list of [start, end] windows.")
    Path labels;

    @Option(names = "--out", description = "Write one timestamp,value,anomaly_score,label[,state_score] CSV per file here.")
    Path outDir;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--detector", defaultValue = "sidewinder",
            description = "sidewinder, gaussian (windowed Gaussian), rcf (Random Cut Forest) or all. Default: ${DEFAULT-VALUE}.")
    Detector detector;

    @Option(names = "--probation", defaultValue = "nab",
            description = "Leading rows of each file never scored: 'nab' (min(15%% of rows, 750)) or a number of rows "
                    + "(SKAB's protocol: 400). Default: ${DEFAULT-VALUE}.")
    String probation;

    @Option(names = "--model", description = "A model snapshot to forecast with (univariate, or with the files' channel count). "
            + "Default: the general univariate model, fitted on generated data at start.")
    Path model;

    @Option(names = "--gap-mode", defaultValue = "key",
            description = "How time gaps reach the model: key (relative to each file's own cadence) or model (real gaps). Default: ${DEFAULT-VALUE}.")
    KeyCadence.Mode gapMode;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "A detector setting of the stream processor, e.g. --set sidewinder.deviation.reference.readings=300 "
                    + "(repeatable; sidewinder.anomaly.* and sidewinder.deviation.*, see run --list-config). Default: the processor's defaults.")
    java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();

    @Option(names = "--threads", description = "Files replayed in parallel. Default: available processors.")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws Exception {
        java.io.PrintWriter out = spec.commandLine().getOut();
        IntUnaryOperator probationRule = probationRule(probation);
        if (outDir != null && outDir.toAbsolutePath().normalize().startsWith(data.toAbsolutePath().normalize())) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--out " + outDir + " is inside --data "
                    + data + ": its CSV files would be read as corpus files on the next run");
        }
        if (!settings.isEmpty() && detector != Detector.SIDEWINDER && detector != Detector.ALL) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--set configures the sidewinder "
                    + "detector; --detector " + detector.name().toLowerCase(Locale.ROOT) + " has no settings");
        }
        if (outDir != null && java.nio.file.Files.exists(outDir) && !java.nio.file.Files.isDirectory(outDir)) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--out " + outDir + " is a file; give a folder for the scores");
        }
        List<LabelledStream> corpus = CorpusReader.read(data, labels);
        int probationOfLongest = probationRule.applyAsInt(corpus.stream().mapToInt(s -> (int) s.rows()).max().orElse(0));
        if (corpus.stream().allMatch(s -> probationRule.applyAsInt((int) s.rows()) >= s.rows())) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--probation " + probation
                    + " leaves no row of any file to score (" + probationOfLongest + " probation rows)");
        }
        out.printf(Locale.ROOT, "corpus: %d files, %d rows, %d labelled windows%n", corpus.size(),
                corpus.stream().mapToLong(LabelledStream::rows).sum(), corpus.stream().mapToInt(s -> s.windows().size()).sum());
        List<StreamDetector.Factory> detectors = new ArrayList<>();
        if (detector == Detector.GAUSSIAN || detector == Detector.ALL) detectors.add(WindowedGaussianDetector.factory());
        if (detector == Detector.RCF || detector == Detector.ALL) detectors.add(RandomCutForestDetector.factory());
        if (detector == Detector.SIDEWINDER || detector == Detector.ALL) {
            SidewinderConfig config = sidewinderConfig();
            detectors.add(SidewinderDetector.factory(sidewinder(config), config.getDouble(SidewinderConfig.MAX_ABS_VALUE)));
        }
        AnomalyEvaluation.Report last = null;
        for (StreamDetector.Factory f : detectors) {
            AnomalyEvaluation.Replay replay = AnomalyEvaluation.replay(corpus, f, threads);
            if (outDir != null) {
                Path dir = detectors.size() == 1 ? outDir : outDir.resolve(f.name());
                for (AnomalyEvaluation.FileScores fs : replay.files()) ResultWriter.write(dir, fs, f.separateStateScore());
            }
            last = AnomalyEvaluation.score(f.name(), replay, probationRule);
            print(out, last, f.separateStateScore());
            out.flush();
        }
        double standard = last.profile(NabProfile.STANDARD).score();
        if (Double.isNaN(standard)) {   // NAB normalises by the perfect detector's score: no window, no scale
            out.println("note: no labelled window outside probation, so the NAB scores are undefined (n/a); "
                    + "FAR is the false-alarm rate on this normal data");
        }
        out.printf(Locale.ROOT, "standard=%s low-fp=%s low-fn=%s f1=%.3f%n", nab(standard),
                nab(last.profile(NabProfile.REWARD_LOW_FP).score()), nab(last.profile(NabProfile.REWARD_LOW_FN).score()),
                last.points().counts().f1());
        out.flush();
        return 0;
    }

    private SensorDetector sidewinder(SidewinderConfig config) throws java.io.IOException {
        ModelParameters params = model != null ? ModelSnapshots.toParameters(ModelSnapshots.read(model))
                : GeneralModels.univariate(GeneralModels.DEFAULT_SEED);
        return SidewinderDetector.detector(params, gapMode, config);
    }

    private SidewinderConfig sidewinderConfig() {
        SidewinderConfig config = io.sidewinder.app.OptionChecks.settings(spec, settings);
        for (String key : settings.keySet()) {
            if (!SidewinderConfig.definition().names().contains(key)) {
                throw io.sidewinder.app.OptionChecks.usage(spec, "--set: unknown setting '" + key + "'");
            }
        }
        return config;
    }

    private IntUnaryOperator probationRule(String rule) {
        if (rule.equalsIgnoreCase("nab")) return NabScorer::nabProbation;
        try {
            int rows = Integer.parseInt(rule);
            if (rows < 0) throw new NumberFormatException();
            return n -> rows;
        } catch (NumberFormatException e) {
            throw io.sidewinder.app.OptionChecks.usage(spec,
                    "--probation must be 'nab' or a number of rows >= 0, got '" + rule + "'");
        }
    }

    /** A NAB score, or n/a where it is undefined (no labelled window to normalise by). */
    static String nab(double score) {
        return Double.isNaN(score) ? "n/a" : String.format(Locale.ROOT, "%.2f", score);
    }

    private static void print(java.io.PrintWriter out, AnomalyEvaluation.Report r, boolean separate) {
        out.printf(Locale.ROOT, "%s: %d files, %d windows, %.0f rows/s%n", r.detector(), r.files(), r.windows(), r.rowsPerSecond());
        for (AnomalyEvaluation.ProfileResult p : r.profiles()) {
            out.printf(Locale.ROOT, "  NAB %-8s %7s at threshold %.6f (in-sample), %7s cross-validated%n",
                    p.profile().label(), nab(p.score()), p.threshold(), nab(p.crossValidatedScore()));
        }
        printPoints(out, separate ? "points (state score)" : "points", r.points());
        if (separate) printPoints(out, "points (onset score, for comparison)", r.onsetPoints());
    }

    private static void printPoints(java.io.PrintWriter out, String label, AnomalyEvaluation.PointResult pt) {
        out.printf(Locale.ROOT, "  %s F1 %.3f FAR %.1f%% MAR %.1f%% at threshold %.6f (in-sample); F1 %.3f FAR %.1f%% MAR %.1f%% cross-validated%n",
                label, pt.counts().f1(), pt.counts().farPercent(), pt.counts().marPercent(), pt.threshold(),
                pt.crossValidated().f1(), pt.crossValidated().farPercent(), pt.crossValidated().marPercent());
    }
}
