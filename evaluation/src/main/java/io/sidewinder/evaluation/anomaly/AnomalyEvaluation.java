package io.sidewinder.evaluation.anomaly;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntUnaryOperator;

/**
 * Replays a labelled corpus through a detector (one fresh detector per file, row by row, causally) and scores
 * the result: NAB-style normalised scores for the three profiles from the onset scores, and point-wise F1 / FAR /
 * MAR from the state scores, each with the in-sample best threshold and with a 2-fold cross-validated one (files
 * alternate between folds in path order; each fold's threshold is chosen on the other fold).
 */
public final class AnomalyEvaluation {
    private AnomalyEvaluation() {}

    /** A file and the onset and state score of each of its rows. */
    public record FileScores(LabelledStream stream, double[] onset, double[] state) {}

    /** Scores for every file and the replay's wall time. */
    public record Replay(List<FileScores> files, long rows, long nanos) {
        public double rowsPerSecond() {
            return rows / (nanos / 1e9);
        }
    }

    /** Runs every file through a fresh detector, files in parallel on {@code threads} threads. */
    public static Replay replay(List<LabelledStream> corpus, StreamDetector.Factory factory, int threads)
            throws InterruptedException {
        long t0 = System.nanoTime();
        List<FileScores> out = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads))) {
            List<Future<FileScores>> futures = new ArrayList<>();
            for (LabelledStream s : corpus) futures.add(pool.submit(() -> scoreFile(s, factory)));
            for (Future<FileScores> f : futures) out.add(f.get());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        long rows = corpus.stream().mapToLong(LabelledStream::rows).sum();
        return new Replay(out, rows, System.nanoTime() - t0);
    }

    static FileScores scoreFile(LabelledStream s, StreamDetector.Factory factory) {
        StreamDetector d = factory.create(s.channels().size());
        double[] onset = new double[s.rows()], state = new double[s.rows()];
        for (int i = 0; i < s.rows(); i++) {
            StreamDetector.Scores v = d.score(s.times()[i], s.values()[i]);
            onset[i] = inUnitRange(v.onset(), factory, i, s);
            state[i] = inUnitRange(v.state(), factory, i, s);
        }
        return new FileScores(s, onset, state);
    }

    private static double inUnitRange(double v, StreamDetector.Factory factory, int row, LabelledStream s) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalStateException(factory.name() + " scored row " + row + " of " + s.path() + " outside [0,1]: " + v);
        }
        return v;
    }

    /** NAB result of one profile. */
    public record ProfileResult(NabProfile profile, double threshold, double score, double crossValidatedScore) {}

    /** Point-wise result at a threshold. */
    public record PointResult(double threshold, PointMetrics.Counts counts, PointMetrics.Counts crossValidated) {}

    /** {@code points} are from the state scores, {@code onsetPoints} from the onset scores (the same for a one-score detector). */
    public record Report(String detector, int files, int windows, long rows, double rowsPerSecond,
                         List<ProfileResult> profiles, PointResult points, PointResult onsetPoints) {
        public ProfileResult profile(NabProfile p) {
            return profiles.stream().filter(r -> r.profile() == p).findFirst().orElseThrow();
        }
    }

    /**
     * Scores a replay. {@code probation} gives each file's number of unscored leading rows (NAB's rule is
     * {@link NabScorer#nabProbation}).
     */
    public static Report score(String detector, Replay replay, IntUnaryOperator probation) {
        List<FileScores> files = replay.files();
        List<ProfileResult> profiles = new ArrayList<>();
        int windows = 0;
        for (NabProfile p : NabProfile.values()) {
            List<NabScorer.ScoredFile> all = new ArrayList<>(), fold0 = new ArrayList<>(), fold1 = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                FileScores f = files.get(i);
                NabScorer.ScoredFile sf = NabScorer.prepare(f.onset(), f.stream().windows(),
                        probation.applyAsInt(f.stream().rows()), p);
                all.add(sf);
                (i % 2 == 0 ? fold0 : fold1).add(sf);
            }
            windows = NabScorer.windows(all);
            NabScorer.Sweep best = NabScorer.bestThreshold(all, p);
            double t0 = NabScorer.bestThreshold(fold0, p).threshold(), t1 = NabScorer.bestThreshold(fold1, p).threshold();
            double cvRaw = NabScorer.rawScore(fold1, t0, p) + NabScorer.rawScore(fold0, t1, p);
            profiles.add(new ProfileResult(p, best.threshold(), NabScorer.normalise(best.rawScore(), windows, p),
                    NabScorer.normalise(cvRaw, windows, p)));
        }
        return new Report(detector, files.size(), windows, replay.rows(), replay.rowsPerSecond(), profiles,
                points(files, FileScores::state, probation), points(files, FileScores::onset, probation));
    }

    private static PointResult points(List<FileScores> files, java.util.function.Function<FileScores, double[]> scores,
                                      IntUnaryOperator probation) {
        List<PointMetrics.LabelledScores> all = new ArrayList<>(), fold0 = new ArrayList<>(), fold1 = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            FileScores f = files.get(i);
            PointMetrics.LabelledScores ls = PointMetrics.scorable(scores.apply(f), f.stream().rowLabels(),
                    probation.applyAsInt(f.stream().rows()));
            all.add(ls);
            (i % 2 == 0 ? fold0 : fold1).add(ls);
        }
        PointMetrics.Best best = PointMetrics.bestF1(all);
        PointMetrics.Counts cv = PointMetrics.at(fold1, PointMetrics.bestF1(fold0).threshold())
                .plus(PointMetrics.at(fold0, PointMetrics.bestF1(fold1).threshold()));
        return new PointResult(best.threshold(), best.counts(), cv);
    }
}
