package dev.camelbatch.openaibatch.producer;

import java.io.FilterInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.StreamCachingStrategy;

/**
 * The body of the {@code results} operation: the JSONL file of a batch, read from the API as the route consumes it
 * (e.g. with {@code split(body().tokenize("\n")).streaming()}). It can be read once. Camel's stream caching leaves
 * it alone (it would read the whole file into memory): convert it yourself if a later step must read it again.
 */
public final class OpenAIBatchResultsStream extends FilterInputStream {

    private final String batchId;
    private final String fileId;

    OpenAIBatchResultsStream(InputStream in, String batchId, String fileId) {
        super(in);
        this.batchId = batchId;
        this.fileId = fileId;
    }

    public String getBatchId() {
        return batchId;
    }

    public String getFileId() {
        return fileId;
    }

    /** Adds this class to the deny list of the context's stream caching, once. */
    static void exemptFromStreamCaching(CamelContext context) {
        StreamCachingStrategy s = context.getStreamCachingStrategy();
        if (s == null) {
            return;
        }
        synchronized (s) {
            Collection<Class<?>> deny = s.getDenyClasses();
            if (deny != null && deny.contains(OpenAIBatchResultsStream.class)) {
                return;
            }
            List<Class<?>> all = deny != null ? new ArrayList<>(deny) : new ArrayList<>();
            all.add(OpenAIBatchResultsStream.class);
            s.setDenyClasses(all.toArray(new Class<?>[0]));
        }
    }

    @Override
    public String toString() {
        return "OpenAIBatchResultsStream[batch=" + batchId + ", file=" + fileId + "]";
    }
}
