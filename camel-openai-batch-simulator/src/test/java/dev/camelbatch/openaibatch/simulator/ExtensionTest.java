package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(300)
class ExtensionTest {

    @RegisterExtension
    static OpenAIBatchSimulatorExtension SIM = OpenAIBatchSimulatorExtension.builder().apiKey("sk-ext")
            .stepDelay(Duration.ofMillis(5)).linesPerStep(100).resetBeforeEach(true).build();

    static int port = -1;

    @RepeatedTest(2)
    void sharedSimulatorIsRunningAndResetBeforeEachTest() {
        assertThat(SIM.baseUrl()).isEqualTo("http://127.0.0.1:" + SIM.simulator().port() + "/v1");
        assertThat(SIM.apiKey()).isEqualTo("sk-ext");
        if (port >= 0) {
            assertThat(SIM.simulator().port()).isEqualTo(port); // same simulator for the whole class
        }
        port = SIM.simulator().port();
        assertThat(SIM.simulator().stats().filesStored()).isZero();
        SimHttp http = new SimHttp(SIM.simulator());
        String id = http.submit(SimHttp.calculations(3), "/v1/chat/completions");
        assertThat(http.awaitStatus(id, "completed").at("/request_counts/completed").asInt()).isEqualTo(3);
    }

    @Test
    void simulatorCanBeInjected(BatchSimulator sim) {
        assertThat(sim).isSameAs(SIM.simulator());
    }

    @Nested
    class PerTestRegistration {

        @RegisterExtension
        OpenAIBatchSimulatorExtension perTest = OpenAIBatchSimulatorExtension.builder()
                .stepDelay(Duration.ofMillis(5)).azureMode(true).build();

        @Test
        void instanceFieldStartsItsOwnSimulator() {
            assertThat(perTest.simulator()).isNotSameAs(SIM.simulator());
            assertThat(perTest.baseUrl()).endsWith("/openai");
            assertThat(new SimHttp(perTest.simulator()).get("/files").status()).isEqualTo(200);
        }
    }
}
