package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** One page of {@code ListFilesResponse}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class FileList extends ListPage<OpenAIFile> {

    public FileList() {
    }

    @Override
    protected String idOf(OpenAIFile item) {
        return item.getId();
    }
}
