package io.sidewinder.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.LagReadout;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.trainer.grad.TrainableModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnsembleTrainerTest {
    static final List<Windows.Series> DATA = List.of(ForecastTrainerTest.sine(900, 1));
    static final List<Windows.Window> TRAIN = ForecastTrainerTest.windows(0, 700, 40), VAL = ForecastTrainerTest.windows(700, 900, 40);

    static EnsembleTrainer.MemberTraining training() {
        return (model, options, progress) -> new ForecastTrainer(DATA, options).train(model, TRAIN, VAL, progress);
    }

    @Test
    void membersTrainedSideBySideAreTheSingleModelsOfTheirSeedsAndThreadCount() throws Exception {
        ForecastTrainer.Options o = ForecastTrainerTest.options(2).withThreads(2).withSeed(7);
        EnsembleTrainer.Result e = EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o, true, training(),
                ForecastTrainerTest.QUIET);
        assertEquals(2, e.model().config().members());
        assertEquals(2, e.members().size());
        for (int k = 0; k < 2; k++) {
            // side by side, each member had one of the two threads
            TrainableModel alone = new TrainableModel(ModelParameters.initialise(ForecastTrainerTest.CFG, 7 + k));
            ForecastTrainer.Result r = training().train(alone, o.withSeed(7 + k).withThreads(1), ForecastTrainerTest.QUIET);
            assertEquals(r.bestValidationMse(), e.members().get(k).bestValidationMse(), 0.0, "member " + k);
            assertEquals(alone.toParameters().all(), e.model().member(k).all(), "member " + k + "'s parameters");
        }
    }

    @Test
    void sideBySideMembersRunAtTheSameTimeEachOnItsShareOfTheThreads() throws Exception {
        ForecastTrainer.Options o = ForecastTrainerTest.options(1).withThreads(2).withSeed(7);
        // Each member waits for the other to have started: run one after the other, the first one times out.
        CyclicBarrier bothRunning = new CyclicBarrier(2);
        List<Integer> threads = Collections.synchronizedList(new ArrayList<>());
        EnsembleTrainer.MemberTraining rendezvous = (model, options, progress) -> {
            threads.add(options.threads());
            bothRunning.await(60, TimeUnit.SECONDS);
            return training().train(model, options, progress);
        };
        EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o, true, rendezvous, ForecastTrainerTest.QUIET);
        assertEquals(List.of(1, 1), threads, "each member has one of the two threads");

        // One after the other: never two members at once, each with every thread.
        AtomicInteger running = new AtomicInteger(), mostAtOnce = new AtomicInteger();
        List<Integer> sequentialThreads = Collections.synchronizedList(new ArrayList<>());
        EnsembleTrainer.MemberTraining counting = (model, options, progress) -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            sequentialThreads.add(options.threads());
            try {
                return training().train(model, options, progress);
            } finally {
                running.decrementAndGet();
            }
        };
        EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o, false, counting, ForecastTrainerTest.QUIET);
        assertEquals(1, mostAtOnce.get(), "members trained one after the other");
        assertEquals(List.of(2, 2), sequentialThreads);
    }

    @Test
    void aMixedEnsemblesMembersTrainInAlternatingFormsEachFittingItsOwnReadout() throws Exception {
        ModelConfig single = ForecastTrainerTest.CFG.withReadoutLags(8);
        ModelConfig mixed = single.withMembers(2).withReadoutForm(ReadoutForm.MIXED);
        ForecastTrainer.Options o = ForecastTrainerTest.options(1).withThreads(2).withSeed(5);
        EnsembleTrainer.Result e = EnsembleTrainer.train(mixed, o, true, training(), ForecastTrainerTest.QUIET);
        assertEquals(mixed, e.model().config());
        ReadoutForm[] forms = {ReadoutForm.NORMALISED, ReadoutForm.RESIDUAL};
        for (int k = 0; k < 2; k++) {
            TrainableModel alone = new TrainableModel(ModelParameters.initialise(single.withReadoutForm(forms[k]), 5 + k));
            training().train(alone, o.withSeed(5 + k).withThreads(1), ForecastTrainerTest.QUIET);
            assertEquals(forms[k], e.model().member(k).config().readoutForm());
            assertEquals(alone.toParameters().all(), e.model().member(k).all(), "member " + k + "'s parameters");
        }
        assertTrue(!Arrays.equals(e.model().member(0).data(LagReadout.WEIGHT), e.model().member(1).data(LagReadout.WEIGHT)),
                "each form fits its own readout");
    }

    @Test
    void oneAfterTheOtherMembersKeepEveryThread() throws Exception {
        ForecastTrainer.Options o = ForecastTrainerTest.options(1).withThreads(2).withSeed(3);
        EnsembleTrainer.Result e = EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o, false, training(),
                ForecastTrainerTest.QUIET);
        TrainableModel alone = new TrainableModel(ModelParameters.initialise(ForecastTrainerTest.CFG, 4));
        training().train(alone, o.withSeed(4), ForecastTrainerTest.QUIET);
        assertEquals(alone.toParameters().all(), e.model().member(1).all());
    }

    @Test
    void eachMemberCheckpointsToItsOwnFileAndAFailingMemberFailsTheEnsemble(@TempDir Path dir) throws Exception {
        Path cp = dir.resolve("run.ckpt");
        ForecastTrainer.Options o = ForecastTrainerTest.options(1).withThreads(2).withCheckpoint(cp);
        EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o, true, training(), ForecastTrainerTest.QUIET);
        assertTrue(Files.exists(dir.resolve("run.ckpt.member0")) && Files.exists(dir.resolve("run.ckpt.member1")));
        assertTrue(!Files.exists(cp));

        EnsembleTrainer.MemberTraining failing = (model, options, progress) -> {
            if (options.seed() == o.seed() + 1) throw new IllegalStateException("member 1 ran out of data");
            return training().train(model, options, progress);
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EnsembleTrainer.train(ForecastTrainerTest.CFG.withMembers(2), o.withCheckpoint(null), true, failing,
                        ForecastTrainerTest.QUIET));
        assertEquals("member 1 ran out of data", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new TrainableModel(ModelParameters.initialise(ForecastTrainerTest.CFG.withMembers(2), 1)));
    }
}
