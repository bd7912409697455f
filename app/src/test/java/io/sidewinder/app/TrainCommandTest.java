package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.ssm.ModelSnapshots;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class TrainCommandTest {

    @ParameterizedTest(name = "precision={0}")
    @ValueSource(strings = {"double", "fp32"})
    void trainingFromAnAvroFileOfReadingsWritesAValidatedSnapshotWithProvenance(String precision, @TempDir Path dir)
            throws Exception {
        Path data = dir.resolve("readings.avro");
        try (DataFileWriter<SensorReading> w = new DataFileWriter<>(new SpecificDatumWriter<>(SensorReading.class))) {
            w.create(SensorReading.getClassSchema(), data.toFile());
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < 400; i++) {
                    float v = (float) (Math.sin(i * 2 * Math.PI / 20 + s) + 10);
                    w.append(SensorReading.newBuilder().setSensorId("s" + s).setEventTime(Instant.ofEpochMilli(i * 1000L))
                            .setValues(List.of(v, 2 * v)).build());
                }
            }
            // A late duplicate that the ordering rule drops, as the stream would.
            w.append(SensorReading.newBuilder().setSensorId("s0").setEventTime(Instant.ofEpochMilli(5000))
                    .setValues(List.of(1f, 1f)).build());
        }
        Path out = dir.resolve("model.avro");
        int code = Main.commandLine().execute("train", "--data", data.toString(), "--lookback", "40", "--horizon", "4",
                "--d-model", "8", "--layers", "1", "--d-state", "4", "--epochs", "2", "--samples-per-epoch", "64",
                "--threads", "2", "--loss", "MSE", "--precision", precision, "--out", out.toString());
        assertEquals(0, code);
        ModelSnapshot snap = ModelSnapshots.read(out);
        var params = ModelSnapshots.toParameters(snap); // checksum, shapes, finiteness
        assertEquals(1, params.config().channels());
        assertEquals(4, params.config().horizon());
        assertEquals(1000L, params.config().gap().referenceMillis(), "gap reference = the data's median spacing");
        assertTrue(snap.getMetrics().get("val_mse") > 0 && Double.isFinite(snap.getMetrics().get("val_mse")));
        assertEquals("holdout", snap.getProvenance().get("protocol"));
        assertTrue(snap.getProvenance().get("code_version").matches("\\d+\\.\\d+\\.\\d+.*\\+([0-9a-f]{12}|unknown)"),
                "the version and commit it was trained with: " + snap.getProvenance().get("code_version"));
        assertEquals("1", snap.getProvenance().get("seed"));
        assertEquals(precision.toUpperCase(java.util.Locale.ROOT), snap.getProvenance().get("precision"));
    }

    /** A tiny CSV the holdout protocol trains on in a second. */
    private static Path tinyCsv(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder("date,a,b\n");
        for (int i = 0; i < 300; i++) {
            double v = Math.sin(i * 2 * Math.PI / 20) + 10;
            sb.append(java.time.LocalDateTime.of(2020, 1, 1, 0, 0).plusHours(i).toString().replace('T', ' ') + ":00").append(',').append(v).append(',').append(2 * v).append('\n');
        }
        Path csv = dir.resolve("tiny.csv");
        java.nio.file.Files.writeString(csv, sb.toString());
        return csv;
    }

    private record Run(int code, String err) {}

    private static Run train(Path dir, String... extra) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(List.of("train", "--data", tinyCsv(dir).toString(),
                "--lookback", "24", "--horizon", "4", "--d-model", "8", "--layers", "1", "--d-state", "4",
                "--epochs", "1", "--samples-per-epoch", "32", "--threads", "2", "--loss", "MSE",
                "--out", dir.resolve("model.avro").toString()));
        for (String option : extra) { // an option given in extra replaces its default pair
            int at = args.indexOf(option);
            if (option.startsWith("--") && at > 0) args.subList(at, at + 2).clear();
        }
        args.addAll(List.of(extra));
        // picocli's subcommands keep the System.err of their construction: capture it before building the CLI.
        java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(stderr, true));
        int code;
        try {
            code = Main.commandLine().execute(args.toArray(String[]::new));
        } finally {
            System.err.flush();
            System.setErr(old);
        }
        return new Run(code, stderr.toString());
    }

    @Test
    void anOutThatWouldOverwriteTheDataOrCannotBeWrittenIsRefusedBeforeTraining(@TempDir Path dir) throws Exception {
        Path csv = tinyCsv(dir);
        String before = java.nio.file.Files.readString(csv);
        Run same = train(dir, "--data", csv.toString(), "--out", csv.toString());
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains("is the --data file"), same.err());
        assertEquals(before, java.nio.file.Files.readString(csv), "the data is untouched");
        Run folder = train(dir, "--out", dir.toString());
        assertEquals(2, folder.code(), folder.err());
        assertTrue(folder.err().contains("is a directory"), folder.err());
        Run onCheckpoint = train(dir, "--out", dir.resolve("m.ckpt").toString(), "--checkpoint", dir.resolve("m.ckpt").toString());
        assertEquals(2, onCheckpoint.code(), onCheckpoint.err());
        assertTrue(onCheckpoint.err().contains("same file"), onCheckpoint.err());
        Run missing = train(dir, "--out", dir.resolve("no/such/dir/model.avro").toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("does not exist or is not writable"), missing.err());
    }

    @Test
    void aCheckpointOnATopicNeedsAnEndTimeSoThatAResumeReadsTheSameData(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--data", "kafka:readings", "--checkpoint", dir.resolve("ckpt").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--checkpoint with kafka: data needs --to"), r.err());
    }

    @Test
    void aPublishThatFailsLeavesTheTrainedModelInTheOutFile(@TempDir Path dir) throws Exception {
        try (var broker = io.sidewinder.kafka.embedded.EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("plain", 1, java.util.Map.of());   // not compacted: the publisher refuses it
            Run r = train(dir, "--publish", "plain", "--bootstrap-servers", broker.bootstrapServers());
            assertTrue(r.code() != 0, "the publish failed");
            assertTrue(r.err().contains("the trained model is in"), r.err());
            ModelSnapshots.toParameters(ModelSnapshots.read(dir.resolve("model.avro")));   // whole and valid
        }
    }

    @Test
    void optionsTheDataCannotHonourAreRefusedNotIgnored(@TempDir Path dir) throws Exception {
        String[][] cases = {
            {"--from", "2020-01-05T00:00:00Z"},           // a file is read whole: the range would be recorded, not applied
            {"--features", "S"},                          // the OT column only is the ett protocol's
            {"--protocol", "ett", "--data", "kafka:readings"},   // the ETT splits are a CSV file's rows
            {"--protocol", "weekly"},
            {"--lookback", "2000000"},
        };
        String[] expected = {"--from and --to select the event times of kafka: data", "--features S (the OT column only)",
            "--protocol ett reads an ETT CSV file", "unknown --protocol 'weekly'", "--lookback must be between 1 and 1000000"};
        for (int i = 0; i < cases.length; i++) {
            Run r = train(dir, cases[i]);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(expected[i]), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains("sidewinder train: "), "one prefix for every usage error: " + r.err());
            assertFalse(java.nio.file.Files.exists(dir.resolve("model.avro")), "nothing trained: " + String.join(" ", cases[i]));
        }
    }

    @Test
    void aModelTooLargeToTrainIsRefusedBeforeItIsAllocated(@TempDir Path dir) throws Exception {
        // in_proj alone is 2·d_inner × d_model = 2 · 8 000 × 4 000 = 64 M weights per layer.
        Run r = train(dir, "--d-model", "4000");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("parameters (more than 25,000,000)"), r.err());
        // Members train side by side: five models of ~13 M parameters each are refused.
        Run five = train(dir, "--d-model", "1024", "--members", "5", "--epochs", "0");
        assertEquals(2, five.code(), five.err());
        assertTrue(five.err().contains("(5 members)"), five.err());
        // Before the ETT readout-form choice, which fits three forms of the model.
        StringBuilder rows = new StringBuilder("date,OT\n");   // the ETT splits' 14,400 hourly rows
        for (int i = 0; i < 14_400; i++) {
            rows.append(java.time.LocalDateTime.of(2016, 7, 1, 0, 0).plusHours(i).toString().replace('T', ' '))
                    .append(":00,").append(Math.sin(i / 24.0 * 2 * Math.PI) + 0.001 * (i % 7)).append('\n');
        }
        Path ett = java.nio.file.Files.writeString(dir.resolve("ETTh1.csv"), rows);
        Run ettLarge = train(dir, "--data", ett.toString(), "--d-model", "4000");
        assertEquals(2, ettLarge.code(), ettLarge.err());
        assertTrue(ettLarge.err().contains("parameters (more than 25,000,000)"), ettLarge.err());
    }

    @Test
    void aSigningKeyFileSignsTheModelAndAShortKeyIsRefusedBeforeTraining(@TempDir Path dir) throws Exception {
        Path key = java.nio.file.Files.writeString(dir.resolve("signing.key"), "a shared key of at least thirty-two bytes\n");
        Run ok = train(dir, "--signing-key-file", key.toString());
        assertEquals(0, ok.code(), ok.err());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        assertEquals(null, io.sidewinder.ssm.SnapshotSignature.ofText("a shared key of at least thirty-two bytes").problem(snap));
        Path shortKey = java.nio.file.Files.writeString(dir.resolve("short.key"), "short");
        Run refused = train(dir, "--signing-key-file", shortKey.toString(), "--out", dir.resolve("m2.avro").toString());
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("at least 32 bytes"), refused.err());
        assertFalse(java.nio.file.Files.exists(dir.resolve("m2.avro")));
    }

    @Test
    void aKafkaConfigFileReachesThePublisherSoThatASecuredClusterCanBeUsed(@TempDir Path dir) throws Exception {
        try (var broker = io.sidewinder.kafka.embedded.EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            broker.createTopic("models", 1, java.util.Map.of("cleanup.policy", "compact"));
            // The file run --config reads: its brokers are used without --bootstrap-servers, its Streams keys ignored.
            Path config = java.nio.file.Files.writeString(dir.resolve("sidewinder.properties"), "bootstrap.servers="
                    + broker.bootstrapServers() + "\napplication.id=sidewinder\nsidewinder.model.id=pumps\n");
            Run ok = train(dir, "--publish", "models", "--kafka-config", config.toString());
            assertEquals(0, ok.code(), ok.err());
            var champion = new io.sidewinder.app.train.ModelPublisher(broker.bootstrapServers(), "models").champion("default");
            assertTrue(champion.isPresent(), "published through the file's brokers");

            // A client setting in the file is checked as the clients will, before training: an invalid
            // security.protocol is a usage error, not a failure after the run.
            Path bad = java.nio.file.Files.writeString(dir.resolve("bad.properties"), "bootstrap.servers="
                    + broker.bootstrapServers() + "\nsecurity.protocol=NOPE\n");
            Run refused = train(dir, "--publish", "models", "--kafka-config", bad.toString(), "--out",
                    dir.resolve("model2.avro").toString());
            assertEquals(2, refused.code(), refused.err());
            assertTrue(refused.err().contains("security.protocol"), refused.err());
            assertFalse(java.nio.file.Files.exists(dir.resolve("model2.avro")), "refused before training");
        }
        Run missing = train(dir, "--publish", "models", "--kafka-config", dir.resolve("nope.properties").toString(),
                "--out", dir.resolve("model3.avro").toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("nope.properties does not exist"), missing.err());
        assertFalse(java.nio.file.Files.exists(dir.resolve("model3.avro")), "refused before training");
    }

    @ParameterizedTest(name = "backend={0}")
    @ValueSource(strings = {"scalar", "cuda"})
    void backendImpliesFp32AndIsRecorded(String backend, @TempDir Path dir) throws Exception {
        Run r = train(dir, "--backend", backend);
        assertEquals(0, r.code(), r.err());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        ModelSnapshots.toParameters(snap);
        assertEquals("FP32", snap.getProvenance().get("precision"));
        assertEquals(backend, snap.getProvenance().get("backend"));
        String kernels = snap.getProvenance().get("kernels");
        if (backend.equals("scalar")) {
            assertTrue(kernels.contains("scalar"), kernels);
        } else if (!io.sidewinder.ssm.kernels.cuda.Cuda.available()) {
            assertTrue(!kernels.contains("cuda"), "no GPU: the CPU backend ran, and the provenance says so: " + kernels);
        } else {
            assertTrue(kernels.startsWith("cuda("), kernels);
        }
        assertTrue(Double.isFinite(snap.getMetrics().get("val_mse")));
    }

    @Test
    void theHuberLossTrainsAndANonPositiveDeltaIsRefused(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--loss", "SCALED_HUBER", "--huber-delta", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--huber-delta must be > 0"), r.err());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("model.avro")));
        r = train(dir, "--loss", "SCALED_HUBER", "--huber-delta", "0.5", "--precision", "FP32");
        assertEquals(0, r.code(), r.err());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        assertTrue(Double.isFinite(snap.getMetrics().get("val_mse")));
        // --loss reaches the training: the same seed trains (in double, which repeats bit for bit) one model under
        // MSE, the same one again, and another under Huber.
        List<io.sidewinder.ssm.Parameter> mse = trainedParameters(dir, "--loss", "MSE", "--precision", "DOUBLE");
        assertEquals(mse, trainedParameters(dir, "--loss", "MSE", "--precision", "DOUBLE"), "the same run repeats");
        List<io.sidewinder.ssm.Parameter> huber = trainedParameters(dir, "--loss", "SCALED_HUBER", "--huber-delta", "0.5",
                "--precision", "DOUBLE");
        assertTrue(!mse.equals(huber), "Huber's loss trains another model than MSE");
    }

    private static List<io.sidewinder.ssm.Parameter> trainedParameters(Path dir, String... extra) throws Exception {
        Run r = train(dir, extra);
        assertEquals(0, r.code(), r.err());
        return ModelSnapshots.toParameters(ModelSnapshots.read(dir.resolve("model.avro"))).all();
    }

    @Test
    void anEnsembleTrainsItsMembersAndServesTheirMeanAndZeroMembersIsRefused(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--members", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--members must be at least 1"), r.err());
        java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(stdout, true));
        try {
            r = train(dir, "--members", "2", "--precision", "FP32", "--seed", "5");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, r.code(), r.err());
        assertTrue(stdout.toString().contains("member 1 (seed 6)"), stdout.toString());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        var params = ModelSnapshots.toParameters(snap);
        assertEquals(2, params.config().members());
        assertEquals("2 (seeds 5..6)", snap.getProvenance().get("members"));
        assertTrue(snap.getProvenance().get("epochs").startsWith("2 members: "), snap.getProvenance().get("epochs"));
        assertTrue(Double.isFinite(snap.getMetrics().get("val_mse")) && snap.getMetrics().get("val_mse") > 0);
    }

    @Test
    void aPatienceBelowOneEpochIsRefused(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--patience", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--patience must be at least 1"), r.err());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("model.avro")));
    }

    @Test
    void backendWithDoublePrecisionIsRejected(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--backend", "cuda", "--precision", "DOUBLE");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--precision DOUBLE"), "stderr [" + r.err() + "] len " + r.err().length());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("model.avro")));
    }

    @Test
    void unknownBackendAndRequireGpuWithoutCudaAreRejected(@TempDir Path dir) throws Exception {
        Run r = train(dir, "--backend", "gpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("auto, scalar, simd, cuda"), r.err());
        r = train(dir, "--backend", "simd", "--require-gpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--require-gpu needs --backend cuda"), r.err());
    }

    @Test
    void cycleNamesItsPhasesFromTheDataSpacingAndIsRefusedWhereItCannotApply(@TempDir Path dir) throws Exception {
        long hour = 3_600_000L;
        assertEquals(24, io.sidewinder.app.train.TrainCommand.cyclePhases("auto", true, hour));
        assertEquals(96, io.sidewinder.app.train.TrainCommand.cyclePhases("daily", true, hour / 4));
        assertEquals(0, io.sidewinder.app.train.TrainCommand.cyclePhases("auto", false, hour), "auto: ETT protocol only");
        assertEquals(0, io.sidewinder.app.train.TrainCommand.cyclePhases("none", true, hour));
        assertEquals(168, io.sidewinder.app.train.TrainCommand.cyclePhases("168", true, hour));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> io.sidewinder.app.train.TrainCommand.cyclePhases("daily", true, 7 * 60_000L));
        assertTrue(e.getMessage().contains("not a whole number"), e.getMessage());
        Run r = train(dir, "--cycle", "weekly");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not none, auto, daily or a phase count"), r.err());
        r = train(dir, "--cycle", "daily");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("needs the ett protocol"), r.err());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("model.avro")));
    }

    @Test
    void requireGpuFailsClearlyWithoutAGpu(@TempDir Path dir) throws Exception {
        assumeFalse(io.sidewinder.ssm.kernels.cuda.Cuda.available(), "this machine has a usable GPU");
        Run r = train(dir, "--backend", "cuda", "--require-gpu");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("CUDA is unavailable"), r.err());
        assertTrue(!java.nio.file.Files.exists(dir.resolve("model.avro")));
    }

    /**
     * An hourly file the ETT protocol accepts (20 months): a daily cycle of fixed amplitude on a wandering level,
     * with noise whose size changes every few days — so a window's σ says little about the cycle's amplitude.
     */
    private static Path ettShapedCsv(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder("date,a,OT\n");
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        double level = 0, noise = 0.2;
        java.time.LocalDateTime t0 = java.time.LocalDateTime.of(2016, 7, 1, 0, 0);
        for (int i = 0; i < 14_400; i++) {
            if (i % 72 == 0) noise = r.nextDouble() < 0.5 ? 0.1 : 1.5;
            level += 0.05 * r.nextGaussian();
            double cycle = 2 * Math.sin(2 * Math.PI * (i % 24) / 24);
            sb.append(t0.plusHours(i).toString().replace('T', ' ')).append(":00")
                    .append(',').append(level + cycle + noise * r.nextGaussian())
                    .append(',').append(-level + 0.5 * cycle + noise * r.nextGaussian()).append('\n');
        }
        Path csv = dir.resolve("ETTh-shaped.csv");
        java.nio.file.Files.writeString(csv, sb.toString());
        return csv;
    }

    @Test
    void theReadoutFormIsChosenOnValidationUnderTheEttProtocolOrAsNamedAndRecorded(@TempDir Path dir) throws Exception {
        Path csv = ettShapedCsv(dir);
        String[] common = {"--data", csv.toString(), "--lookback", "24", "--horizon", "4", "--epochs", "0",
                "--loss", "SCALED_MSE"};
        Run auto = train(dir, common);
        assertEquals(0, auto.code(), auto.err());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        // The noise inflates some windows' σ and with it the normalised form's cycle: validation sees it.
        assertEquals(io.sidewinder.ssm.ReadoutForm.RESIDUAL, ModelSnapshots.toParameters(snap).config().readoutForm(), auto.err());
        assertTrue(snap.getProvenance().get("readout_form").startsWith("residual (auto, closed-form start's validation MSE normalised "),
                snap.getProvenance().get("readout_form"));
        assertTrue(auto.err().contains("train: readout form residual"), auto.err());
        assertTrue(snap.getProvenance().get("readout_form").contains("; gains residual over normalised ")
                && snap.getProvenance().get("readout_form").contains(", last-value over residual "), snap.getProvenance().get("readout_form"));

        Run last = train(dir, withReadoutForm(common, "last-value"));
        assertEquals(0, last.code(), last.err());
        snap = ModelSnapshots.read(dir.resolve("model.avro"));
        var lastParams = ModelSnapshots.toParameters(snap);
        assertEquals(io.sidewinder.ssm.ReadoutForm.LAST_VALUE, lastParams.config().readoutForm());
        assertEquals("last-value", snap.getProvenance().get("readout_form"));
        float[] offset = lastParams.data(io.sidewinder.ssm.LagReadout.OFFSET);
        assertTrue(offset.length == 4 * lastParams.config().channels()
                && !java.util.Arrays.equals(offset, new float[offset.length]), "the snapshot carries the fitted offset");

        Run normalised = train(dir, withReadoutForm(common, "normalised"));
        assertEquals(0, normalised.code(), normalised.err());
        snap = ModelSnapshots.read(dir.resolve("model.avro"));
        assertEquals(io.sidewinder.ssm.ReadoutForm.NORMALISED, ModelSnapshots.toParameters(snap).config().readoutForm());
        assertEquals("normalised", snap.getProvenance().get("readout_form"));

        Run noLags = train(dir, "--readout-form", "residual", "--readout-lags", "0");
        assertEquals(2, noLags.code(), noLags.err());
        assertTrue(noLags.err().contains("--readout-lags 0 leaves none"), noLags.err());
        Run bogus = train(dir, "--readout-form", "sideways");
        assertEquals(2, bogus.code(), bogus.err());
        assertTrue(bogus.err().contains("is not auto, normalised, residual, last-value or mixed"), bogus.err());
    }

    private static String[] withReadoutForm(String[] args, String form) {
        String[] named = java.util.Arrays.copyOf(args, args.length + 2);
        named[args.length] = "--readout-form";
        named[args.length + 1] = form;
        return named;
    }

    @Test
    void aMixedEnsembleAlternatesTheFormsOverItsMembersAndNeedsTwo(@TempDir Path dir) throws Exception {
        Path csv = ettShapedCsv(dir);
        Run mixed = train(dir, "--data", csv.toString(), "--lookback", "24", "--horizon", "4", "--epochs", "0",
                "--loss", "SCALED_MSE", "--members", "2", "--readout-form", "mixed");
        assertEquals(0, mixed.code(), mixed.err());
        ModelSnapshot snap = ModelSnapshots.read(dir.resolve("model.avro"));
        var params = ModelSnapshots.toParameters(snap);
        assertEquals(io.sidewinder.ssm.ReadoutForm.MIXED, params.config().readoutForm());
        assertEquals(io.sidewinder.ssm.ReadoutForm.NORMALISED, params.member(0).config().readoutForm());
        assertEquals(io.sidewinder.ssm.ReadoutForm.RESIDUAL, params.member(1).config().readoutForm());
        assertEquals("mixed", snap.getProvenance().get("readout_form"));
        assertTrue(Double.isFinite(snap.getMetrics().get("val_mse")) && snap.getMetrics().get("val_mse") > 0);

        Run one = train(dir, "--readout-form", "mixed");
        assertEquals(2, one.code(), one.err());
        assertTrue(one.err().contains("needs --members 2 or more"), one.err());
    }
}
