package dev.camelbatch.openaibatch.engine.lines;

import java.util.Arrays;

/**
 * A set of {@code long} values with open addressing (linear probing, backward-shift deletion): 8 bytes a slot, no
 * boxing. Holds 64-bit hashes of custom ids so that a million spooled requests cost a few megabytes of heap. Not
 * thread-safe.
 */
public final class LongHashSet {

    private static final long EMPTY = 0L;
    private long[] slots;
    private int size;
    private boolean containsZero;

    public LongHashSet(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        slots = new long[cap];
    }

    int size() {
        return size + (containsZero ? 1 : 0);
    }

    public boolean contains(long v) {
        if (v == EMPTY) {
            return containsZero;
        }
        int mask = slots.length - 1;
        int i = mix(v) & mask;
        while (true) {
            long s = slots[i];
            if (s == EMPTY) {
                return false;
            }
            if (s == v) {
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    public boolean add(long v) {
        if (v == EMPTY) {
            boolean added = !containsZero;
            containsZero = true;
            return added;
        }
        if ((size + 1) * 2 > slots.length) {
            grow();
        }
        int mask = slots.length - 1;
        int i = mix(v) & mask;
        while (true) {
            long s = slots[i];
            if (s == EMPTY) {
                slots[i] = v;
                size++;
                return true;
            }
            if (s == v) {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    public boolean remove(long v) {
        if (v == EMPTY) {
            boolean had = containsZero;
            containsZero = false;
            return had;
        }
        int mask = slots.length - 1;
        int i = mix(v) & mask;
        while (true) {
            long s = slots[i];
            if (s == EMPTY) {
                return false;
            }
            if (s == v) {
                break;
            }
            i = (i + 1) & mask;
        }
        // backward-shift deletion keeps probe chains intact without tombstones
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            long s = slots[j];
            if (s == EMPTY) {
                break;
            }
            int home = mix(s) & mask;
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                slots[hole] = s;
                hole = j;
            }
        }
        slots[hole] = EMPTY;
        size--;
        return true;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        size = 0;
        for (long s : old) {
            if (s != EMPTY) {
                add(s);
            }
        }
    }

    public void forEach(java.util.function.LongConsumer consumer) {
        if (containsZero) {
            consumer.accept(EMPTY);
        }
        for (long s : slots) {
            if (s != EMPTY) {
                consumer.accept(s);
            }
        }
    }

    void clear() {
        Arrays.fill(slots, EMPTY);
        size = 0;
        containsZero = false;
    }

    private static int mix(long v) {
        long h = v * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
