package dev.camelbatch.openaibatch.consumer;

import java.io.ObjectStreamException;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import org.apache.camel.util.CaseInsensitiveMap;

/**
 * The headers of an emitted line: Camel's case-insensitive header map, filled only when it is first needed.
 * <p>
 * The consumer puts about fifteen headers on every line; hashing each name into the map takes about as long as the
 * rest of the line's emission, and most routes read two or three of them. Until then the pairs sit in two arrays:
 * {@link #get} and {@link #containsKey} look through them (ignoring case, the later of two equal names winning, as
 * {@code put} would), and everything else (a put, a remove, iteration, size, serialisation) first moves them into the
 * map and then behaves exactly as {@link CaseInsensitiveMap}. Being one, it is taken as the message's header map
 * without a copy; with another {@link org.apache.camel.spi.HeadersMapFactory} Camel copies it as any map.
 * <p>
 * Before the message is handed over, {@link #put} only appends (the consumer builds it); {@link #seal()} switches it
 * to map behaviour. Like {@link CaseInsensitiveMap} and Camel's messages it is not for concurrent use: a read that
 * fills it (size, iteration) changes it.
 */
public final class LineHeaders extends CaseInsensitiveMap {

    private static final long serialVersionUID = 1L;

    private transient String[] names = new String[24];
    private transient Object[] values = new Object[24];
    private transient int pending;
    private transient boolean building = true;

    /** Ends the building phase: from now on it is a map. */
    public LineHeaders seal() {
        building = false;
        return this;
    }

    private void append(String name, Object value) {
        if (pending == names.length) {
            names = Arrays.copyOf(names, pending * 2);
            values = Arrays.copyOf(values, pending * 2);
        }
        names[pending] = name;
        values[pending++] = value;
    }

    /** Moves the pending pairs into the map, in order. */
    private void fill() {
        if (names == null) {
            return;
        }
        String[] n = names;
        Object[] v = values;
        int count = pending;
        names = null;
        values = null;
        pending = 0;
        for (int i = 0; i < count; i++) {
            super.put(n[i], v[i]);
        }
    }

    /** The index of the last pending pair named {@code key} (any case), or -1. */
    private int indexOf(Object key) {
        if (!(key instanceof String s)) {
            return -1;
        }
        // routes and Camel mostly ask with the very constant that was put: find it by identity first (the names
        // share a long prefix, so comparing them ignoring case costs more), then look for a later pair of the same
        // name in another case or instance, which would win
        int from = -1;
        for (int i = pending - 1; i >= 0; i--) {
            if (names[i] == s) {
                from = i;
                break;
            }
        }
        int length = s.length();
        for (int i = pending - 1; i > from; i--) {
            String n = names[i];
            if (n.length() == length && n.equalsIgnoreCase(s)) {
                return i;
            }
        }
        return from;
    }

    @Override
    public Object get(Object key) {
        if (names != null && key instanceof String) {
            int i = indexOf(key);
            return i >= 0 ? values[i] : null;
        }
        fill();
        return super.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        if (names != null && key instanceof String) {
            return indexOf(key) >= 0;
        }
        // anything but a name: as the map answers it (it refuses null)
        fill();
        return super.containsKey(key);
    }

    @Override
    public Object put(String key, Object value) {
        if (building && names != null) {
            append(key, value);
            return null;
        }
        fill();
        return super.put(key, value);
    }

    @Override
    public Object remove(Object key) {
        fill();
        return super.remove(key);
    }

    @Override
    public boolean containsValue(Object value) {
        fill();
        return super.containsValue(value);
    }

    @Override
    public int size() {
        fill();
        return super.size();
    }

    @Override
    public boolean isEmpty() {
        fill();
        return super.isEmpty();
    }

    @Override
    public void clear() {
        fill();
        super.clear();
    }

    @Override
    public void putAll(Map<? extends String, ?> map) {
        fill();
        super.putAll(map);
    }

    @Override
    public Set<Map.Entry<String, Object>> entrySet() {
        fill();
        return super.entrySet();
    }

    /** Serialised as the plain map it stands for. */
    private Object writeReplace() throws ObjectStreamException {
        fill();
        return new CaseInsensitiveMap(this);
    }
}
