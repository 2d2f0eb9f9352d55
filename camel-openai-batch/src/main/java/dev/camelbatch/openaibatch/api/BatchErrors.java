package dev.camelbatch.openaibatch.api;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The {@code errors} object of a batch: {@code {object: "list", data: [BatchError...]}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class BatchErrors {

    @JsonProperty("object")
    private String object;
    @JsonProperty("data")
    private List<BatchError> data;

    public BatchErrors() {
    }

    public String getObject() {
        return object;
    }

    public void setObject(String object) {
        this.object = object;
    }

    /** The errors; never {@code null} (empty when absent). */
    public List<BatchError> getData() {
        if (data == null) {
            data = new ArrayList<>();
        }
        return data;
    }

    public void setData(List<BatchError> data) {
        this.data = data;
    }

    @Override
    public String toString() {
        return "BatchErrors" + getData();
    }
}
