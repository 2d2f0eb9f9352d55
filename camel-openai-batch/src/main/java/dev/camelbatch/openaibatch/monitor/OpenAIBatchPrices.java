package dev.camelbatch.openaibatch.monitor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import org.apache.camel.CamelContext;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.util.ObjectHelper;

/** The price table of an endpoint: the prices bean or the shipped defaults, with the priceTable file on top. */
public final class OpenAIBatchPrices {

    private OpenAIBatchPrices() {
    }

    public static PriceTable resolve(OpenAIBatchConfiguration conf, CamelContext context) {
        PriceTable base = conf.getPrices() != null ? conf.getPrices() : PriceTable.defaults();
        String location = conf.getPriceTable();
        if (ObjectHelper.isEmpty(location)) {
            return base;
        }
        try (InputStream in = open(location, context)) {
            return base.withOverrides(PriceTable.load(in, location));
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read the price table " + location + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(String location, CamelContext context) throws IOException {
        if (!ResourceHelper.hasScheme(location)) {
            Path p = Path.of(location);
            if (Files.isRegularFile(p)) {
                return Files.newInputStream(p);
            }
        }
        return ResourceHelper.resolveMandatoryResourceAsInputStream(context, location);
    }
}
