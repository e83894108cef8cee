package dev.petrel.dumplog;

import org.apache.kafka.storage.internals.checkpoint.LeaderEpochCheckpointFile;
import org.apache.kafka.storage.internals.log.EpochEntry;
import org.apache.kafka.storage.internals.log.LogDirFailureChannel;

import java.io.File;
import java.util.List;

/**
 * Parses a partition's leader-epoch-checkpoint with Apache Kafka's own reader
 * (LeaderEpochCheckpointFile, the class the broker loads it with) because
 * DumpLogSegments does not handle that file.
 *
 * Prints one "epoch=E startOffset=O" line per entry and exits 0, or prints
 * "ERROR: ..." to stderr and exits 1 when Kafka's reader rejects the file or the
 * entries break the invariant LeaderEpochFileCache keeps (epochs and start
 * offsets both strictly increasing; an entry that breaks it would be silently
 * dropped by the broker on load).
 */
public final class ReadLeaderEpochCheckpoint {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ReadLeaderEpochCheckpoint PATH/leader-epoch-checkpoint");
            System.exit(2);
        }
        File file = new File(args[0]);
        if (!file.isFile()) {
            System.err.println("ERROR: " + file + " does not exist");
            System.exit(1);
        }
        List<EpochEntry> entries;
        try {
            entries = new LeaderEpochCheckpointFile(file, new LogDirFailureChannel(1)).read();
        } catch (Throwable e) {
            Throwable cause = e;
            StringBuilder msg = new StringBuilder(String.valueOf(e.getMessage()));
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
                msg.append(" / caused by: ").append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage());
            }
            System.err.println("ERROR: Kafka's LeaderEpochCheckpointFile rejected " + file + ": " + msg);
            System.exit(1);
            return;
        }
        int rc = 0;
        EpochEntry prev = null;
        for (EpochEntry e : entries) {
            System.out.println("epoch=" + e.epoch() + " startOffset=" + e.startOffset());
            if (e.epoch() < 0 || e.startOffset() < 0) {
                System.err.println("ERROR: negative epoch or start offset: " + e);
                rc = 1;
            }
            if (prev != null && (e.epoch() <= prev.epoch() || e.startOffset() <= prev.startOffset())) {
                System.err.println("ERROR: non-monotonic entry " + e + " after " + prev
                    + " (LeaderEpochFileCache would drop it)");
                rc = 1;
            }
            prev = e;
        }
        System.exit(rc);
    }
}
