package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class MultipartStreamTest {

    /** Returns at most 7 bytes per read, to exercise buffer refills at every position. */
    static InputStream trickle(byte[] data) {
        return new FilterInputStream(new ByteArrayInputStream(data)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 7));
            }
        };
    }

    @Test
    void parsesFieldsAndFileInTinyReads() throws IOException {
        byte[] content = "line1\r\n--almost\r\n-boundary\nline3".getBytes(StandardCharsets.UTF_8);
        byte[] body = SimHttp.multipart("XyZ", "a \"b\".jsonl", content, Map.of("purpose", "batch"));
        MultipartStream ms = new MultipartStream(trickle(body), "XyZ");
        MultipartStream.Part p1 = ms.nextPart();
        assertThat(p1.name()).isEqualTo("purpose");
        assertThat(ms.readText(100)).isEqualTo("batch");
        MultipartStream.Part p2 = ms.nextPart();
        assertThat(p2.name()).isEqualTo("file");
        assertThat(p2.contentType()).isEqualTo("application/octet-stream");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ms.copyBody(out, Long.MAX_VALUE)).isEqualTo(content.length);
        assertThat(out.toByteArray()).isEqualTo(content);
        assertThat(ms.nextPart()).isNull();
    }

    @Test
    void skipsUnreadPartsAndPreamble() throws IOException {
        byte[] body = ("preamble\r\n" + new String(SimHttp.multipart("b", "f.jsonl", "data".getBytes(),
                Map.of("x", "1")), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        MultipartStream ms = new MultipartStream(new ByteArrayInputStream(body), "b");
        assertThat(ms.nextPart().name()).isEqualTo("x");
        MultipartStream.Part file = ms.nextPart(); // x's body skipped
        assertThat(file.filename()).isEqualTo("f.jsonl");
        assertThat(ms.nextPart()).isNull();
    }

    @Test
    void rejectsTruncatedAndOversizedBodies() throws IOException {
        byte[] body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nabcdef"
                .getBytes(StandardCharsets.UTF_8);
        MultipartStream ms = new MultipartStream(new ByteArrayInputStream(body), "b");
        ms.nextPart();
        assertThatThrownBy(() -> ms.copyBody(new ByteArrayOutputStream(), 100)).isInstanceOf(ApiException.class);

        byte[] big = SimHttp.multipart("b", "x", new byte[1000], Map.of());
        MultipartStream ms2 = new MultipartStream(new ByteArrayInputStream(big), "b");
        ms2.nextPart();
        assertThatThrownBy(() -> ms2.copyBody(new ByteArrayOutputStream(), 999))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status).isEqualTo(413));
    }

    @Test
    void parsesContentTypeBoundaries() {
        assertThat(MultipartStream.boundaryOf("multipart/form-data; boundary=abc")).isEqualTo("abc");
        assertThat(MultipartStream.boundaryOf("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"")).isEqualTo("a b");
        assertThat(MultipartStream.boundaryOf("application/json")).isNull();
        assertThat(MultipartStream.boundaryOf("multipart/form-data")).isNull();
        assertThat(MultipartStream.parameters("form-data; name=\"file\"; filename=\"a\\\"b.jsonl\""))
                .containsEntry("name", "file").containsEntry("filename", "a\"b.jsonl");
    }
}
