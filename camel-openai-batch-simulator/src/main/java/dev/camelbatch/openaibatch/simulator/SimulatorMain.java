package dev.camelbatch.openaibatch.simulator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the simulator stand-alone:
 * {@code java -jar camel-openai-batch-simulator-<v>-runnable.jar --port 8080 [--api-key K] [--step-delay-ms 500]
 * [--lines-per-step N] [--azure] [--storage-dir DIR] [--seed S] [--expire-after-steps N]
 * [--token-limit MODEL=TOKENS] [--lost-answers P] [--fault 'METHOD /v1/route=FAULT@P'] [--record-executions]}.
 * Prints the base URL on the first line of standard output and runs until killed.
 */
public final class SimulatorMain {

    private SimulatorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        BatchSimulator sim;
        try {
            sim = start(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        if (sim == null) {
            return; // --help
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sim.close();
            stopped.countDown();
        }, "openai-batch-sim-shutdown"));
        System.out.println(sim.baseUrl());
        System.out.flush();
        stopped.await();
    }

    /** Parses the arguments and starts a simulator (null for {@code --help}). */
    public static BatchSimulator start(String... args) {
        // a stand-alone simulator may run for long: it records executions only when asked to
        BatchSimulator.Builder b = BatchSimulator.builder().port(8080).stepDelay(Duration.ofMillis(500))
                .recordExecutions(false);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--port", "-port" -> b.port(Integer.parseInt(value(args, ++i, a)));
                case "--api-key" -> b.apiKey(value(args, ++i, a));
                case "--step-delay-ms" -> b.stepDelay(Duration.ofMillis(Long.parseLong(value(args, ++i, a))));
                case "--lines-per-step" -> b.linesPerStep(Integer.parseInt(value(args, ++i, a)));
                case "--azure" -> b.azureMode(true);
                case "--storage-dir" -> b.storageDir(Path.of(value(args, ++i, a)));
                case "--seed" -> b.seed(Long.parseLong(value(args, ++i, a)));
                case "--expire-after-steps" -> b.expireAfterSteps(Integer.parseInt(value(args, ++i, a)));
                case "--token-limit" -> {
                    String v = value(args, ++i, a);
                    int eq = v.lastIndexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--token-limit expects MODEL=TOKENS, got " + v);
                    }
                    b.enqueuedTokenLimit(v.substring(0, eq), Long.parseLong(v.substring(eq + 1)));
                }
                case "--lost-answers" -> b.lostAnswers(Double.parseDouble(value(args, ++i, a)));
                case "--fault" -> {
                    // ROUTE=FAULT@P, e.g. "POST /v1/batches=LOST_RESPONSE@0.3"
                    String v = value(args, ++i, a);
                    int eq = v.lastIndexOf('=');
                    int at = v.lastIndexOf('@');
                    if (eq <= 0 || at < eq) {
                        throw new IllegalArgumentException("--fault expects 'ROUTE=FAULT@PROBABILITY', got " + v);
                    }
                    b.fault(v.substring(0, eq), Double.parseDouble(v.substring(at + 1)),
                            Fault.valueOf(v.substring(eq + 1, at).trim()));
                }
                case "--record-executions" -> b.recordExecutions(true);
                case "--help", "-h" -> {
                    System.out.println(usage());
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        return b.build().start();
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    static String usage() {
        return "usage: java -jar camel-openai-batch-simulator-runnable.jar [--port 8080] [--api-key KEY] "
                + "[--step-delay-ms 500] [--lines-per-step 1000] [--azure] [--storage-dir DIR] [--seed 42] "
                + "[--expire-after-steps N] [--token-limit MODEL=TOKENS] [--lost-answers P] "
                + "[--fault 'METHOD /v1/route=FAULT@P'] [--record-executions]";
    }
}
