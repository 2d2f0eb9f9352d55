package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** One page of {@code ListBatchesResponse}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class BatchList extends ListPage<Batch> {

    public BatchList() {
    }

    @Override
    protected String idOf(Batch item) {
        return item.getId();
    }
}
