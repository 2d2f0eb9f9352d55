package dev.camelbatch.openaibatch.simulator;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension running a {@link BatchSimulator}.
 *
 * <pre>{@code
 * @RegisterExtension
 * static OpenAIBatchSimulatorExtension SIM = OpenAIBatchSimulatorExtension.builder()
 *         .apiKey("sk-test").stepDelay(Duration.ofMillis(5)).build();
 * }</pre>
 *
 * Registered on a static field the simulator starts before all tests and stops after all; on an instance field it
 * starts before and stops after each test. With {@link Builder#resetBeforeEach(boolean)} the state is reset before
 * each test. Test methods may declare a {@link BatchSimulator} parameter.
 */
public final class OpenAIBatchSimulatorExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

    private final BatchSimulator.Builder simulatorBuilder;
    private final boolean resetBeforeEach;
    private volatile BatchSimulator simulator;
    private boolean perTest;

    private OpenAIBatchSimulatorExtension(BatchSimulator.Builder simulatorBuilder, boolean resetBeforeEach) {
        this.simulatorBuilder = simulatorBuilder;
        this.resetBeforeEach = resetBeforeEach;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The running simulator. */
    public BatchSimulator simulator() {
        BatchSimulator s = simulator;
        if (s == null) {
            throw new IllegalStateException("the simulator is not running (is the extension registered?)");
        }
        return s;
    }

    public String baseUrl() {
        return simulator().baseUrl();
    }

    public String apiKey() {
        return simulator().apiKey();
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (simulator == null) {
            simulator = simulatorBuilder.build().start();
        }
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        stop();
    }

    @Override
    public synchronized void beforeEach(ExtensionContext context) {
        if (simulator == null) {
            perTest = true;
            simulator = simulatorBuilder.build().start();
        } else if (resetBeforeEach) {
            simulator.reset();
        }
    }

    @Override
    public synchronized void afterEach(ExtensionContext context) {
        if (perTest) {
            stop();
        }
    }

    private void stop() {
        if (simulator != null) {
            simulator.close();
            simulator = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == BatchSimulator.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return simulator();
    }

    /** Mirrors {@link BatchSimulator.Builder}. */
    public static final class Builder {
        private final BatchSimulator.Builder b = BatchSimulator.builder();
        private boolean resetBeforeEach;

        private Builder() {
        }

        public Builder apiKey(String apiKey) {
            b.apiKey(apiKey);
            return this;
        }

        public Builder port(int port) {
            b.port(port);
            return this;
        }

        public Builder storageDir(Path dir) {
            b.storageDir(dir);
            return this;
        }

        public Builder stepDelay(Duration stepDelay) {
            b.stepDelay(stepDelay);
            return this;
        }

        public Builder linesPerStep(int linesPerStep) {
            b.linesPerStep(linesPerStep);
            return this;
        }

        public Builder azureMode(boolean azureMode) {
            b.azureMode(azureMode);
            return this;
        }

        public Builder enqueuedTokenLimit(String model, long tokens) {
            b.enqueuedTokenLimit(model, tokens);
            return this;
        }

        public Builder expireAfterSteps(int steps) {
            b.expireAfterSteps(steps);
            return this;
        }

        public Builder seed(long seed) {
            b.seed(seed);
            return this;
        }

        public Builder maxRequestsPerBatch(int max) {
            b.maxRequestsPerBatch(max);
            return this;
        }

        public Builder maxBatchFileBytes(long max) {
            b.maxBatchFileBytes(max);
            return this;
        }

        /** See {@link BatchSimulator.Builder#recordExecutions(boolean)}. */
        public Builder recordExecutions(boolean record) {
            b.recordExecutions(record);
            return this;
        }

        /** A fault rule for every test: {@link BatchSimulator.Builder#fault(String, double, Fault)}. */
        public Builder fault(String routePattern, double probability, Fault fault) {
            b.fault(routePattern, probability, fault);
            return this;
        }

        /** Answers of state-changing calls lost after they took effect: {@link FaultInjector#lostAnswers(double)}. */
        public Builder lostAnswers(double probability) {
            b.lostAnswers(probability);
            return this;
        }

        /** Reset the simulator's state before each test (default false). */
        public Builder resetBeforeEach(boolean reset) {
            this.resetBeforeEach = reset;
            return this;
        }

        public OpenAIBatchSimulatorExtension build() {
            return new OpenAIBatchSimulatorExtension(b, resetBeforeEach);
        }
    }
}
