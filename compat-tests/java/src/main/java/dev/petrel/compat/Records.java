package dev.petrel.compat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The record conventions of compat-tests/SCENARIOS.md ("Record conventions") for the Java
 * driver: what record i looks like when produced, and the byte-exact check of a record read
 * back. Keys and values are raw byte arrays so that null and empty stay distinct end to end.
 */
final class Records {
    private Records() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Key of record i: key-(i % 20), null for every 10th record. */
    static byte[] key(int i) {
        return i % 10 == 9 ? null : utf8("key-" + (i % 20));
    }

    /** Value of record i: value-i, null for every 7th record. */
    static byte[] value(int i) {
        return i % 7 == 6 ? null : utf8("value-" + i);
    }

    /** Headers of record i, in order: idx = i, plus an empty-valued "empty" when i % 5 == 0. */
    static List<Header> headers(int i) {
        List<Header> h = new ArrayList<>(2);
        h.add(new RecordHeader("idx", utf8(Integer.toString(i))));
        if (i % 5 == 0) {
            h.add(new RecordHeader("empty", new byte[0]));
        }
        return h;
    }

    /** Record i with the given key and value (partition and timestamp may be null: client's choice). */
    static ProducerRecord<byte[], byte[]> record(String topic, Integer partition, Long timestamp, int i,
            byte[] key, byte[] value) {
        return new ProducerRecord<>(topic, partition, timestamp, key, value, headers(i));
    }

    /** Record i exactly as the conventions say. */
    static ProducerRecord<byte[], byte[]> record(String topic, Integer partition, int i) {
        return record(topic, partition, null, i, key(i), value(i));
    }

    /** The record number a read record claims through its first header (idx); fails if it has none. */
    static int index(ConsumerRecord<byte[], byte[]> r) {
        Header[] hs = r.headers().toArray();
        if (hs.length == 0 || !"idx".equals(hs[0].key()) || hs[0].value() == null) {
            throw new Driver.Failure("record without a leading idx header: " + describe(r));
        }
        try {
            return Integer.parseInt(new String(hs[0].value(), StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            throw new Driver.Failure("record with a malformed idx header: " + describe(r));
        }
    }

    /**
     * Compares a read record with record i (given key and value) byte for byte: key, value
     * (null is not empty) and all headers in order. Returns null if equal, else what differed.
     */
    static String mismatch(ConsumerRecord<byte[], byte[]> r, int i, byte[] key, byte[] value) {
        List<String> diffs = new ArrayList<>();
        if (!Arrays.equals(r.key(), key)) {
            diffs.add("key " + show(r.key()) + " != expected " + show(key));
        }
        if (!Arrays.equals(r.value(), value)) {
            diffs.add("value " + show(r.value()) + " != expected " + show(value));
        }
        Header[] got = r.headers().toArray();
        List<Header> want = headers(i);
        boolean same = got.length == want.size();
        for (int h = 0; same && h < got.length; h++) {
            same = got[h].key().equals(want.get(h).key()) && Arrays.equals(got[h].value(), want.get(h).value());
        }
        if (!same) {
            diffs.add("headers " + showHeaders(Arrays.asList(got)) + " != expected " + showHeaders(want));
        }
        return diffs.isEmpty() ? null : "record " + i + " at " + r.partition() + "@" + r.offset() + ": "
                + String.join("; ", diffs);
    }

    /** Fails unless the read record is record i exactly as the conventions say. */
    static void verify(ConsumerRecord<byte[], byte[]> r, int i) {
        String m = mismatch(r, i, key(i), value(i));
        if (m != null) {
            throw new Driver.Failure(m);
        }
    }

    /** A short printable form of a record for failure messages. */
    static String describe(ConsumerRecord<byte[], byte[]> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset() + " key=" + show(r.key()) + " value="
                + show(r.value()) + " headers=" + showHeaders(Arrays.asList(r.headers().toArray()));
    }

    private static String show(byte[] b) {
        if (b == null) {
            return "null";
        }
        String s = new String(b, 0, Math.min(b.length, 40), StandardCharsets.UTF_8);
        return "\"" + s + (b.length > 40 ? "...\"(" + b.length + " bytes)" : "\"");
    }

    private static String showHeaders(List<Header> hs) {
        List<String> out = new ArrayList<>();
        for (Header h : hs) {
            out.add(h.key() + "=" + show(h.value()));
        }
        return out.toString();
    }
}
