package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** Every RocksDB store of the JVM shares one bounded cache: the off-heap total no longer grows with partitions. */
class BoundedMemoryRocksDBConfigTest {

    @Test
    void theStreamsPropertiesInstallTheBoundedSetterWithTheConfiguredBudgetUnlessTheUserGivesOne() {
        Properties p = new SidewinderConfig(Map.of(SidewinderConfig.ROCKSDB_MEMORY_BYTES, "67108864")).streamsProperties();
        assertEquals(BoundedMemoryRocksDBConfig.class.getName(), p.get(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG));
        assertEquals(67_108_864L, p.get(SidewinderConfig.ROCKSDB_MEMORY_BYTES));
        Properties own = new SidewinderConfig(Map.of(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, "com.example.Mine"))
                .streamsProperties();
        assertEquals("com.example.Mine", own.get(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG), "a user's setter wins");
    }

    /** Records the block cache a setter hands to a store's table format. */
    private static final class RecordingTable extends BlockBasedTableConfig {
        Cache cache;

        @Override
        public BlockBasedTableConfig setBlockCache(Cache cache) {
            this.cache = cache;
            return super.setBlockCache(cache);
        }
    }

    private static RecordingTable configure(BoundedMemoryRocksDBConfig setter, String store, long budget) {
        try (Options options = new Options()) {
            RecordingTable table = new RecordingTable();
            options.setTableFormatConfig(table);
            setter.setConfig(store, options, Map.of(SidewinderConfig.ROCKSDB_MEMORY_BYTES, budget));
            assertSame(table, options.tableFormatConfig());
            assertTrue(table.cacheIndexAndFilterBlocks(), "index and filter blocks are charged to the cache");
            assertEquals(BoundedMemoryRocksDBConfig.BLOCK_SIZE, table.blockSize());
            assertEquals(BoundedMemoryRocksDBConfig.MEMTABLE_BYTES, options.writeBufferSize());
            assertEquals(BoundedMemoryRocksDBConfig.MEMTABLES_PER_STORE, options.maxWriteBufferNumber());
            setter.close(store, options);
            return table;
        }
    }

    @Test
    void everyStoreOfABudgetSharesOneCacheAndAnotherBudgetGetsItsOwn() {
        RocksDB.loadLibrary();
        BoundedMemoryRocksDBConfig setter = new BoundedMemoryRocksDBConfig();
        long budget = 48L * 1024 * 1024, other = 80L * 1024 * 1024;
        RecordingTable state = configure(setter, "sensor-state", budget);
        RecordingTable reorder = configure(setter, "reorder-buffer", budget);
        assertNotNull(state.cache);
        assertSame(state.cache, reorder.cache, "two stores, one cache: the total stays within the budget");
        assertSame(BoundedMemoryRocksDBConfig.shared(budget).cache(), state.cache);
        RecordingTable elsewhere = configure(setter, "sensor-state", other);
        assertNotSame(state.cache, elsewhere.cache, "an instance with another budget is not held to the first one");
    }
}
