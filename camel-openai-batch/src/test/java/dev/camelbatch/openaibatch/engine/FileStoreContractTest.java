package dev.camelbatch.openaibatch.engine;

/** The store contract on the embedded file store (one JVM; leases always succeed). */
class FileStoreContractTest extends BatchStoreContract {

    @Override
    BatchStore create(String name) throws Exception {
        FileBatchStore store = new FileBatchStore(tmp.resolve("store"), name, SyncPolicy.INTERVAL, 1000, MAPPER);
        store.start();
        return store;
    }

    @Override
    boolean shared() {
        return false;
    }
}
