package dev.camelbatch.openaibatch.engine.store;

/** How an endpoint name appears where the outside world limits what a name may be. */
public final class Names {

    /** The longest metadata value the Batch API accepts. */
    public static final int MAX_METADATA_VALUE = 512;

    private Names() {
    }

    /**
     * The name with every character but letters, digits, {@code . _ -} replaced by {@code _}, never empty and never
     * starting with a dot: safe as a directory name and inside a filename.
     */
    public static String safe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        if (s.isEmpty() || s.startsWith(".")) {
            s = "_" + s;
        }
        return s;
    }

    /** The name as a metadata value (its first 512 characters). */
    public static String metadataValue(String name) {
        return name.length() > MAX_METADATA_VALUE ? name.substring(0, MAX_METADATA_VALUE) : name;
    }
}
