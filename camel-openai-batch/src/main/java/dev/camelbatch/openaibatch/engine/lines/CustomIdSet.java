package dev.camelbatch.openaibatch.engine.lines;

/**
 * A compact set of custom ids, kept as 64-bit hashes (8 bytes an id). A hash collision between two different ids
 * (probability about 3e-8 for a million ids) makes the second look like a duplicate; it never lets a real duplicate
 * through.
 */
public final class CustomIdSet {

    private final LongHashSet set;

    public CustomIdSet(int expected) {
        set = new LongHashSet(expected);
    }

    /** The hash of the empty id (a line without an id). */
    public static final long EMPTY = hash("");

    /** Adds the id; false when it was already there. */
    public boolean add(String id) {
        return set.add(hash(id));
    }

    /** Adds an id by its {@link #hash}. */
    public boolean addHash(long hash) {
        return set.add(hash);
    }

    /** {@link #hash(String)} of the id held as UTF-8 in {@code b[off, off + len)}; no string made when it is ASCII. */
    public static long hash(byte[] b, int off, int len) {
        long h = 0xcbf29ce484222325L;
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (c < 0) {
                return hash(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
            }
            h ^= c;
            h *= 0x100000001b3L;
        }
        return fmix(h);
    }

    public boolean contains(String id) {
        return set.contains(hash(id));
    }

    public boolean remove(String id) {
        return set.remove(hash(id));
    }

    public int size() {
        return set.size();
    }

    /** 64-bit FNV-1a over the characters with a final avalanche (MurmurHash3's fmix64). */
    public static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return fmix(h);
    }

    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
