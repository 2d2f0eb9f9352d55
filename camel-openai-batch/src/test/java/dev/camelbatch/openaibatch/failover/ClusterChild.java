package dev.camelbatch.openaibatch.failover;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.file.cluster.FileLockClusterService;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.impl.cluster.ClusteredRoutePolicy;

/**
 * One node of the cluster-service test: the file store on a directory shared by the nodes, and every route that
 * uses it under a {@link ClusteredRoutePolicy} of camel-file's {@link FileLockClusterService}, so that only the
 * leader runs them: it reads request files from the shared inbox, spools them, and consumes the results into
 * {@code results-<label>.log}.
 * <p>
 * Arguments: sharedDir label baseUrl apiKey
 */
public final class ClusterChild {

    private ClusterChild() {
    }

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args[0]);
        String label = args[1];
        String baseUrl = args[2];
        String apiKey = args[3];
        FileChannel results = FileChannel.open(shared.resolve("results-" + label + ".log"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND);

        CamelContext context = new DefaultCamelContext();
        FileLockClusterService cluster = new FileLockClusterService();
        cluster.setId("node-" + label);
        cluster.setRoot(shared.resolve("cluster").toString());
        cluster.setAcquireLockDelay(100, TimeUnit.MILLISECONDS);
        cluster.setAcquireLockInterval(200, TimeUnit.MILLISECONDS);
        context.addService(cluster);

        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl(baseUrl);
        component.getConfiguration().setStoreDirectory(shared.resolve("store").toString());
        component.getConfiguration().setMaxRetries(3);
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() throws Exception {
                // a request file picked up again after the leader died: spooled before, nothing to do
                onException(DuplicateCustomIdException.class).handled(true);
                from("file:" + shared.resolve("inbox") + "?delete=true&readLock=none&initialDelay=50&delay=50")
                        .routeId("ingest")
                        .routePolicy(ClusteredRoutePolicy.forNamespace(context, "openai-batch"))
                        .setHeader(OpenAIBatchConstants.CUSTOM_ID, header("CamelFileName"))
                        .convertBodyTo(String.class)
                        // lazyStartProducer: the producer opens the store at its first request, on the leader only
                        .to("openai-batch:clustered?lazyStartProducer=true&model=gpt-4o-mini&maxRequestsPerBatch=10"
                            + "&batchTimeout=200&carryHeaders=CamelFileName");
                from("openai-batch:clustered?pollInterval=20&maxPollInterval=100")
                        .routeId("results")
                        .routePolicy(ClusteredRoutePolicy.forNamespace(context, "openai-batch"))
                        // a route that takes a little time per line, so that the test's kill lands mid-batch
                        .delay(20)
                        .process(e -> FailoverChild.write(results,
                                e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class) + " "
                                                                   + e.getMessage().getBody(String.class) + "\n"));
            }
        });
        context.start();
        Thread.sleep(Long.MAX_VALUE);
    }
}
