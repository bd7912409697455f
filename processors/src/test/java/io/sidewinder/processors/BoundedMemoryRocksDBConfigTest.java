package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
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

    @Test
    void everyStoreGetsTheSharedCacheSmallMemtablesAndCachedIndexBlocks() {
        RocksDB.loadLibrary();
        Map<String, Object> configs = new HashMap<>(Map.of(SidewinderConfig.ROCKSDB_MEMORY_BYTES, 64L * 1024 * 1024));
        BoundedMemoryRocksDBConfig setter = new BoundedMemoryRocksDBConfig();
        for (String store : new String[] {"sensor-state", "reorder-buffer"}) {
            try (Options options = new Options()) {
                options.setTableFormatConfig(new BlockBasedTableConfig());
                setter.setConfig(store, options, configs);
                BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
                assertTrue(table.cacheIndexAndFilterBlocks(), "index and filter blocks are charged to the cache");
                assertEquals(BoundedMemoryRocksDBConfig.BLOCK_SIZE, table.blockSize());
                assertEquals(BoundedMemoryRocksDBConfig.MEMTABLE_BYTES, options.writeBufferSize());
                assertEquals(BoundedMemoryRocksDBConfig.MEMTABLES_PER_STORE, options.maxWriteBufferNumber());
                setter.close(store, options);
            }
        }
        assertTrue(BoundedMemoryRocksDBConfig.budget() > 0, "one cache for the JVM, sized by the first store");
    }
}
