package io.sidewinder.trainer.train;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.trainer.grad.TrainableModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Trains the K members of an ensemble ({@link ModelConfig#members()}) and joins them into one model
 * ({@link ModelParameters#ensemble}). Member k is a single model initialised and trained with seed + k, otherwise
 * with the same options, so each is exactly the model a single run of that seed, thread count and member form gives.
 * Members train side by side, the threads split between them: one member scales sub-linearly over threads, K
 * members do not (ETTm1 on 2 cores: two members on one thread each, 926–996 samples/s together; one model on both
 * threads, 640).
 */
public final class EnsembleTrainer {
    private EnsembleTrainer() {}

    /** One member's training: the caller's data and protocol, e.g. {@code EttExperiment::train}. */
    @FunctionalInterface
    public interface MemberTraining {
        ForecastTrainer.Result train(TrainableModel model, ForecastTrainer.Options options, ForecastTrainer.Progress progress)
                throws Exception;
    }

    /** The joined model and each member's training result, by member. */
    public record Result(ModelParameters model, List<ForecastTrainer.Result> members) {
        /** Training throughput of the whole ensemble: the members' samples per second added up. */
        public double samplesPerSecond() {
            return members.stream().mapToDouble(ForecastTrainer.Result::samplesPerSecond).sum();
        }
    }

    /**
     * Trains the {@link ModelConfig#members()} members of {@code config} with {@code options}: member k is a single
     * model of {@link ModelConfig#member config.member(k)} (under {@link io.sidewinder.ssm.ReadoutForm#MIXED}, the
     * members alternate the normalised and residual forms, each fitting its own readout and cycle).
     *
     * @param sideBySide train members concurrently, {@code options.threads()} split between them; false for
     *     kernels that one training must own (the CUDA trainer's resident step)
     * @param progress member 0's progress (the others report only through their results)
     */
    public static Result train(ModelConfig config, ForecastTrainer.Options options, boolean sideBySide,
                               MemberTraining training, ForecastTrainer.Progress progress) throws Exception {
        int members = config.members();
        int concurrent = sideBySide ? Math.max(1, Math.min(members, options.threads())) : 1;
        int threadsEach = Math.max(1, options.threads() / concurrent);
        ExecutorService pool = Executors.newFixedThreadPool(concurrent, r -> {
            Thread t = new Thread(r, "ensemble-member");
            t.setDaemon(true);
            return t;
        });
        try {
            List<TrainableModel> models = new ArrayList<>();
            List<Future<ForecastTrainer.Result>> runs = new ArrayList<>();
            for (int k = 0; k < members; k++) {
                long seed = options.seed() + k;
                TrainableModel model = new TrainableModel(ModelParameters.initialise(config.member(k), seed));
                ForecastTrainer.Options o = options.withSeed(seed).withThreads(threadsEach)
                        .withCheckpoint(memberCheckpoint(options.checkpoint(), k, members));
                ForecastTrainer.Progress p = k == 0 ? progress : (e, es, s, ss, l, v, sps) -> {};
                models.add(model);
                runs.add(pool.submit(() -> training.train(model, o, p)));
            }
            List<ForecastTrainer.Result> results = new ArrayList<>();
            for (Future<ForecastTrainer.Result> f : runs) {
                try {
                    results.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Exception cause) throw cause;
                    throw e;
                }
            }
            List<ModelParameters> trained = new ArrayList<>();
            for (TrainableModel m : models) trained.add(m.toParameters());
            return new Result(members == 1 ? trained.get(0) : ModelParameters.ensemble(trained), List.copyOf(results));
        } finally {
            pool.shutdownNow();
        }
    }

    /** Member k's checkpoint file beside the given one (the file itself for a single model; null for none). */
    static Path memberCheckpoint(Path checkpoint, int k, int members) {
        if (checkpoint == null || members == 1) return checkpoint;
        return checkpoint.resolveSibling(checkpoint.getFileName() + ".member" + k);
    }
}
