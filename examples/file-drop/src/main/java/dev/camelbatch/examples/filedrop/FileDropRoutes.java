package dev.camelbatch.examples.filedrop;

import java.io.File;
import java.nio.file.Path;

import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.file.GenericFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two routes of the example.
 * <ol>
 * <li>{@code inbox}: a review file becomes ONE exchange whose body is the file read as a JSONL document of requests
 * ({@link ReviewDocument}, one row at a time). The producer validates the whole document before it stores any of
 * it, stores it, forces it to disk ({@code syncPolicy=ALWAYS}) and only then returns; only then does the file
 * component move the file to {@code inbox/.done}. A bad row fails the exchange with its line number before
 * anything is stored, and the file goes to {@code inbox/.error}.</li>
 * <li>{@code results}: the consumer of the same name submits the batches, polls them, and emits one exchange per
 * result, with the carried header {@code reviewFile} restored and the row id in the custom id; each result is
 * appended to {@code outbox/results.csv} before the exchange completes. With {@code batchEvents=true} the same route
 * also gets one exchange per batch state change, which drives the progress bar.</li>
 * </ol>
 */
public class FileDropRoutes extends RouteBuilder {

    static final Logger LOG = LoggerFactory.getLogger("file-drop");
    /** The carried header with the name of the file a review came from. */
    public static final String REVIEW_FILE = "reviewFile";

    private final FileDropSettings settings;
    private final Progress progress;
    private final ResultsFile results;

    public FileDropRoutes(FileDropSettings settings, Progress progress, ResultsFile results) {
        this.settings = settings;
        this.progress = progress;
        this.results = results;
    }

    @Override
    public void configure() {
        String inbox = settings.inbox().toString().replace('\\', '/');

        from("file:" + inbox + "?includeExt=csv,jsonl&move=.done&moveFailed=.error"
             + "&readLock=changed&readLockCheckInterval=500&readLockTimeout=20000&delay=500&initialDelay=0")
                .routeId("inbox")
                // the body is a stream read once, by the producer: no stream caching (which would read it first)
                .streamCache("false")
                .onException(Exception.class).handled(false).logExhausted(false)
                    .process(this::refused)
                .end()
                .process(this::toDocument)
                .to("openai-batch:reviews?model=" + settings.model() + "&carryHeaders=" + REVIEW_FILE
                    + "&flushOnDocumentEnd=true&syncPolicy=ALWAYS&maxRequestsPerBatch="
                    + settings.maxRequestsPerBatch())
                .process(this::accepted);

        from("openai-batch:reviews?batchEvents=true")
                .routeId("results")
                .choice()
                    .when(header(OpenAIBatchConstants.EVENT_TYPE).isNotNull())
                        .process(this::batchEvent)
                    .otherwise()
                        .process(this::result);
    }

    private void toDocument(Exchange exchange) throws Exception {
        Message msg = exchange.getMessage();
        GenericFile<?> gf = msg.getBody(GenericFile.class);
        Path file = ((File) gf.getFile()).toPath();
        msg.setHeader(REVIEW_FILE, gf.getFileNameOnly());
        // memory-bounded: rows are read and turned into request lines as the producer reads the stream
        msg.setBody(ReviewDocument.open(file));
    }

    private void accepted(Exchange exchange) {
        String file = exchange.getMessage().getHeader(REVIEW_FILE, String.class);
        int rows = exchange.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT, 0, Integer.class);
        LOG.info("{}: {} reviews spooled; moving it to inbox/.done", file, rows);
        progress.fileAccepted(file, rows);
    }

    private void refused(Exchange exchange) {
        Exception e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String file = exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
        String reason = describe(exchange, e);
        LOG.error("{}: refused, nothing of it was spooled; moving it to inbox/.error: {}", file, reason);
        progress.fileRefused(file, reason);
    }

    /** The reason with the line of the review file: ours, or the producer's request line mapped back to the file. */
    static String describe(Exchange exchange, Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        if (e instanceof InvalidRequestException ire && ire.getLineNumber() > 0) {
            GenericFile<?> gf = exchange.getProperty(Exchange.FILE_EXCHANGE_FILE, GenericFile.class);
            String msg = ire.getMessage().replaceFirst("^line \\d+: ", "");
            long line = gf != null ? ReviewDocument.lineOfRow(((File) gf.getFile()).toPath(), ire.getLineNumber())
                    : -1;
            return line > 0 ? "line " + line + ": " + msg : "row " + ire.getLineNumber() + ": " + msg;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private void batchEvent(Exchange exchange) {
        Message m = exchange.getMessage();
        String type = m.getHeader(OpenAIBatchConstants.EVENT_TYPE, String.class);
        String batchId = m.getHeader(OpenAIBatchConstants.BATCH_ID, String.class);
        LOG.debug("batch {} {}: {}/{}", batchId, type, m.getHeader(OpenAIBatchConstants.COMPLETED_COUNT),
                m.getHeader(OpenAIBatchConstants.TOTAL_COUNT));
        progress.batchEvent(batchId, type, m.getHeader(OpenAIBatchConstants.COMPLETED_COUNT, Integer.class),
                m.getHeader(OpenAIBatchConstants.FAILED_COUNT, Integer.class),
                m.getHeader(OpenAIBatchConstants.TOTAL_COUNT, Integer.class));
    }

    private void result(Exchange exchange) throws Exception {
        Message m = exchange.getMessage();
        String file = m.getHeader(REVIEW_FILE, String.class);
        String id = ReviewDocument.rowId(m.getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class));
        boolean error = m.getHeader(OpenAIBatchConstants.IS_ERROR, false, Boolean.class);
        String sentiment = error
                ? "error: " + m.getHeader(OpenAIBatchConstants.ERROR_CODE, String.class) + ": "
                  + m.getHeader(OpenAIBatchConstants.ERROR_MESSAGE, String.class)
                : Sentiment.of(m.getBody(String.class));
        results.append(id, file, sentiment);
        progress.result(sentiment, error, m.getHeader(OpenAIBatchConstants.PROMPT_TOKENS, Long.class),
                m.getHeader(OpenAIBatchConstants.COMPLETION_TOKENS, Long.class),
                m.getHeader(OpenAIBatchConstants.TOTAL_TOKENS, Long.class));
    }
}
