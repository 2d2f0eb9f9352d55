package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class AzureModeTest {

    @Test
    void azureRoutesKeysApiVersionAndEndpointsWithoutV1() {
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("azure-key-0001").azureMode(true)
                .stepDelay(Duration.ofMillis(5)).build().start()) {
            assertThat(sim.baseUrl()).isEqualTo("http://127.0.0.1:" + sim.port() + "/openai");
            SimHttp http = new SimHttp(sim);

            // the line urls use the Azure form, the endpoint too
            String jsonl = SimHttp.calculations(3).replace("/v1/chat/completions", "/chat/completions");
            String fileId = http.upload(jsonl);
            SimHttp.Resp created = http.createBatch(fileId, "/chat/completions", null);
            assertThat(created.status()).as(created.body()).isEqualTo(200);
            assertThat(created.json().get("endpoint").asText()).isEqualTo("/chat/completions");
            JsonNode done = http.awaitStatus(created.json().get("id").asText(), "completed");
            List<JsonNode> out = http.jsonl(done.get("output_file_id").asText());
            assertThat(out).hasSize(3);
            assertThat(out).extracting(l -> l.at("/response/body/choices/0/message/content").asText())
                    .containsExactlyInAnyOrder("1 + 1 = 2", "1 + 2 = 3", "1 + 3 = 4");

            // the /v1 form is accepted as well, and lines may mix both forms
            String mixed = SimHttp.chatLine("a", "gpt-4o-mini", "x") + "\n"
                    + SimHttp.chatLine("b", "gpt-4o-mini", "y").replace("/v1/chat", "/chat") + "\n";
            SimHttp.Resp v1 = http.createBatch(http.upload(mixed), "/v1/chat/completions", null);
            assertThat(v1.status()).isEqualTo(200);
            assertThat(http.awaitStatus(v1.json().get("id").asText(), "completed", "failed").get("status").asText())
                    .isEqualTo("completed");

            // stats use the canonical /v1 route keys
            assertThat(sim.stats().calls("POST /v1/files")).isEqualTo(2);
            assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(2);

            // api-version is required
            SimHttp.Resp noVersion = http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/files"))
                    .header("api-key", "azure-key-0001").GET().build());
            assertThat(noVersion.status()).isEqualTo(400);
            assertThat(noVersion.json().at("/error/param").asText()).isEqualTo("api-version");

            // the key goes in the api-key header
            SimHttp.Resp wrongKey = new SimHttp(sim.baseUrl(), "nope", true).get("/files");
            assertThat(wrongKey.status()).isEqualTo(401);
            SimHttp.Resp noKey = new SimHttp(sim.baseUrl(), null, true).get("/files");
            assertThat(noKey.status()).isEqualTo(401);

            // OpenAI paths do not exist in Azure mode
            SimHttp.Resp openAiPath = http.send(HttpRequest.newBuilder(URI.create(sim.rootUrl() + "/v1/files"))
                    .header("api-key", "azure-key-0001").GET().build());
            assertThat(openAiPath.status()).isEqualTo(404);
        }
    }

    @Test
    void azureModeTakesTheKeyOnlyFromTheApiKeyHeader() {
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("azure-key-0001").azureMode(true)
                .stepDelay(Duration.ofMillis(5)).build().start()) {
            String files = sim.baseUrl() + "/files?api-version=2024-10-21";

            // the right key, but as a bearer token: Azure reads that as an Entra ID token and refuses it
            SimHttp.Resp bearer = new SimHttp(sim).send(HttpRequest.newBuilder(URI.create(files))
                    .header("Authorization", "Bearer azure-key-0001").GET().build());
            assertAzureAccessDenied(bearer, "Access token is missing, invalid");

            SimHttp.Resp missing = new SimHttp(sim.baseUrl(), null, true).get("/files");
            assertAzureAccessDenied(missing, "missing subscription key");
            SimHttp.Resp wrong = new SimHttp(sim.baseUrl(), "azure-key-9999", true).get("/files");
            assertAzureAccessDenied(wrong, "invalid subscription key");
            assertThat(wrong.body()).doesNotContain("azure-key-9999");

            assertThat(new SimHttp(sim).get("/files").status()).isEqualTo(200);
        }
        // without a configured key any api-key is taken, but a bearer token is still refused
        try (BatchSimulator open = BatchSimulator.builder().azureMode(true).stepDelay(Duration.ofMillis(5)).build()
                .start()) {
            assertThat(new SimHttp(open.baseUrl(), "anything", true).get("/files").status()).isEqualTo(200);
            assertThat(new SimHttp(open.baseUrl(), null, true).get("/files").status()).isEqualTo(200);
            SimHttp.Resp bearer = new SimHttp(open).send(HttpRequest.newBuilder(URI.create(open.baseUrl()
                    + "/files?api-version=2024-10-21")).header("Authorization", "Bearer anything").GET().build());
            assertAzureAccessDenied(bearer, "Access token is missing, invalid");
        }
        // OpenAI mode: the bearer token is the way
        try (BatchSimulator openAi = BatchSimulator.builder().apiKey("sk-1").stepDelay(Duration.ofMillis(5)).build()
                .start()) {
            assertThat(new SimHttp(openAi).get("/files").status()).isEqualTo(200);
        }
    }

    /** Azure's 401: {"error":{"code":"401","message":...}}, without OpenAI's type and param. */
    private static void assertAzureAccessDenied(SimHttp.Resp r, String message) {
        assertThat(r.status()).as(r.body()).isEqualTo(401);
        JsonNode error = r.json().get("error");
        assertThat(error.get("code").asText()).isEqualTo("401");
        assertThat(error.get("message").asText()).contains(message);
        assertThat(error.has("type")).isFalse();
        assertThat(error.has("param")).isFalse();
        assertThat(r.json().size()).isEqualTo(1);
    }

    @Test
    void openAiModeRejectsEndpointsWithoutV1() {
        try (BatchSimulator sim = BatchSimulator.builder().stepDelay(Duration.ofMillis(5)).build().start()) {
            SimHttp http = new SimHttp(sim);
            assertThat(http.createBatch(http.upload(SimHttp.calculations(1)), "/chat/completions", null).status())
                    .isEqualTo(400);
        }
    }
}
