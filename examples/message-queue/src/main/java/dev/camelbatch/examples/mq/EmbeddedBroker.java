package dev.camelbatch.examples.mq;

import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.remoting.impl.invm.InVMConnector;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;

/**
 * An ActiveMQ Artemis broker in this JVM: the queues {@code requests} and {@code results}, and {@code DLQ} for
 * messages that failed three deliveries. Clients in this JVM connect with {@code vm://ID}; with a TCP acceptor,
 * other processes can too.
 */
public final class EmbeddedBroker implements AutoCloseable {

    private final EmbeddedActiveMQ broker;
    private final int id;

    private EmbeddedBroker(EmbeddedActiveMQ broker, int id) {
        this.broker = broker;
        this.id = id;
    }

    public static EmbeddedBroker start(MessageQueueSettings s) throws Exception {
        Configuration config = new ConfigurationImpl().setName("openai-batch-example-" + s.brokerId()).setSecurityEnabled(false)
                .setPersistenceEnabled(s.persistent()).setJMXManagementEnabled(false)
                .addAcceptorConfiguration("in-vm", "vm://" + s.brokerId());
        if (s.persistent()) {
            String base = s.dir().resolve("broker").toString();
            config.setJournalDirectory(base + "/journal").setBindingsDirectory(base + "/bindings")
                    .setPagingDirectory(base + "/paging").setLargeMessagesDirectory(base + "/large-messages");
        }
        if (s.tcpAcceptor() != null) {
            config.addAcceptorConfiguration("tcp", s.tcpAcceptor());
        }
        config.addAddressSetting("#", new AddressSettings().setDeadLetterAddress(SimpleString.of("DLQ"))
                .setExpiryAddress(SimpleString.of("ExpiryQueue")).setMaxDeliveryAttempts(3));
        for (String q : new String[] {MessageQueueSettings.REQUESTS, MessageQueueSettings.RESULTS, "DLQ",
            "ExpiryQueue"}) {
            config.addQueueConfiguration(QueueConfiguration.of(q).setRoutingType(RoutingType.ANYCAST));
        }
        EmbeddedActiveMQ broker = new EmbeddedActiveMQ().setConfiguration(config);
        broker.start();
        return new EmbeddedBroker(broker, s.brokerId());
    }

    /** The URL for clients in this JVM. */
    public String inVmUrl() {
        return "vm://" + id;
    }

    /** Messages waiting in a queue. */
    public long messageCount(String queue) {
        var q = broker.getActiveMQServer().locateQueue(queue);
        return q == null ? -1 : q.getMessageCount();
    }

    @Override
    public void close() throws Exception {
        broker.stop();
        // the in-VM connector's thread pool is static and not made of daemon threads: end it, or the JVM (and
        // `mvn exec:java`) waits a minute for it to idle out
        InVMConnector.resetThreadPool();
    }
}
