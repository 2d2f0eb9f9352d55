package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.file.Path;

import dev.camelbatch.openaibatch.monitor.OpenAIBatchMetrics;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchMicrometer;
import org.apache.camel.CamelContext;
import org.apache.camel.Component;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * micrometer-core is optional: with a class loader that cannot see it, the component's classes load, a route spools
 * requests, and the Micrometer binding is never loaded.
 */
@Timeout(300)
class WithoutMicrometerTest {

    @TempDir
    Path store;

    /** Loads the component's classes itself (child first) and refuses io.micrometer. */
    static final class NoMicrometerLoader extends ClassLoader {
        NoMicrometerLoader(ClassLoader parent) {
            super(parent);
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                if (name.startsWith("io.micrometer.")) {
                    throw new ClassNotFoundException(name + " (hidden by the test)");
                }
                if (!name.startsWith("dev.camelbatch.openaibatch.") || name.contains("Test")) {
                    return super.loadClass(name, resolve);
                }
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                        if (in == null) {
                            throw new ClassNotFoundException(name);
                        }
                        byte[] b = in.readAllBytes();
                        c = defineClass(name, b, 0, b.length);
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    @Test
    void componentWorksWithoutMicrometer() throws Exception {
        NoMicrometerLoader loader = new NoMicrometerLoader(getClass().getClassLoader());
        assertThatThrownBy(() -> loader.loadClass("io.micrometer.core.instrument.MeterRegistry"))
                .isInstanceOf(ClassNotFoundException.class);

        Class<?> metrics = loader.loadClass(OpenAIBatchMetrics.class.getName());
        Method present = metrics.getDeclaredMethod("isMicrometerPresent");
        present.setAccessible(true);
        assertThat(present.invoke(null)).isEqualTo(false);

        CamelContext context = new DefaultCamelContext();
        context.setApplicationContextClassLoader(loader);
        try {
            Component component = (Component) loader.loadClass(OpenAIBatchComponent.class.getName())
                    .getConstructor().newInstance();
            // configured through its own classes: Camel's generated configurers come from the test's class loader
            Object conf = component.getClass().getMethod("getConfiguration").invoke(component);
            conf.getClass().getMethod("setModel", String.class).invoke(conf, "gpt-4o-mini");
            conf.getClass().getMethod("setApiKey", String.class).invoke(conf, "sk-x");
            conf.getClass().getMethod("setStoreDirectory", String.class).invoke(conf, store.toString());
            context.addComponent("openai-batch", component);
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:in").to("openai-batch:no-micrometer");
                }
            });
            context.start();
            Exchange ex = context.createProducerTemplate().request("direct:in", e -> e.getMessage().setBody("hi"));
            assertThat(ex.getException()).isNull();
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(1);
            assertThat(context.getEndpoint("openai-batch:no-micrometer").getClass().getClassLoader())
                    .isSameAs(loader);
        } finally {
            context.stop();
        }
        // the class that names Micrometer types was never loaded
        assertThat(loader.loaded(OpenAIBatchRuntime.class.getName())).isTrue();
        assertThat(loader.loaded(OpenAIBatchMicrometer.class.getName())).isFalse();
    }
}
