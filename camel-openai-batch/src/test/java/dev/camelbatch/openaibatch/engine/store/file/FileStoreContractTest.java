package dev.camelbatch.openaibatch.engine.store.file;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;

/** The store contract on the embedded file store (one JVM; leases always succeed). */
class FileStoreContractTest extends BatchStoreContract {

    @Override
    protected BatchStore create(String name) throws Exception {
        FileBatchStore store = new FileBatchStore(tmp.resolve("store"), name, SyncPolicy.INTERVAL, 1000, MAPPER);
        store.start();
        return store;
    }

    @Override
    protected boolean shared() {
        return false;
    }
}
