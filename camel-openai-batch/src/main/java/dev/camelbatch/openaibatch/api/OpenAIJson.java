package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The shared Jackson configuration for the OpenAI wire format.
 * <p>
 * Unknown properties are ignored (the API adds fields over time); what may be left out of a request is decided per DTO
 * with {@code @JsonInclude}, not globally, so that required-but-nullable fields are still written.
 */
public final class OpenAIJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(SerializationFeature.INDENT_OUTPUT)
            // parse errors must not quote the payload (it may hold user data)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private OpenAIJson() {
    }

    /**
     * The shared, configured mapper. Thread-safe; do not reconfigure it (use {@code mapper().copy()} to derive one).
     */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Serializes a value to one compact JSON line (no trailing newline), e.g. a {@link BatchRequestLine}. */
    public static String toJsonLine(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /** Parses one JSON line (e.g. of a batch output file) into the given type. */
    public static <T> T fromJsonLine(String line, Class<T> type) {
        try {
            return MAPPER.readValue(line, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse a " + type.getSimpleName() + " line", e);
        }
    }
}
