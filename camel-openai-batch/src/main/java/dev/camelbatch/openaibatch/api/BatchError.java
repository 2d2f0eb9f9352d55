package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One error of a batch ({@code BatchError}), e.g. an input file validation error. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class BatchError {

    @JsonProperty("code")
    private String code;
    @JsonProperty("message")
    private String message;
    @JsonProperty("param")
    private String param;
    @JsonProperty("line")
    private Integer line;

    public BatchError() {
    }

    public BatchError(String code, String message, String param, Integer line) {
        this.code = code;
        this.message = message;
        this.param = param;
        this.line = line;
    }

    public String getCode() {
        return code;
    }

    public void setCode(String code) {
        this.code = code;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }

    public String getParam() {
        return param;
    }

    public void setParam(String param) {
        this.param = param;
    }

    /** The input file line number the error refers to, or {@code null}. */
    public Integer getLine() {
        return line;
    }

    public void setLine(Integer line) {
        this.line = line;
    }

    @Override
    public String toString() {
        return "BatchError{code=" + code + ", line=" + line + ", param=" + param + ", message=" + message + '}';
    }
}
