package io.sidewinder.processors;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store in the JVM by {@code sidewinder.rocksdb.memory.bytes} (a soft
 * bound: the cache may briefly overshoot rather than fail a read): one block cache shared by all stores, with the
 * memtables charged to it through one write-buffer manager (the bounded-memory
 * setter of the Kafka Streams memory-management guide). Without it each store takes RocksDB's defaults (a 50 MB block
 * cache and up to three 16 MB memtables, for the state, reorder and models stores of every task), so the off-heap
 * total grows with the partitions an instance owns until the container is killed.
 */
public final class BoundedMemoryRocksDBConfig implements RocksDBConfigSetter {
    /** Share of the budget the memtables may take; the rest caches blocks, index and filters. */
    static final double MEMTABLE_SHARE = 0.25;
    /** Index and filter blocks get this share of the cache at high priority, so data blocks cannot evict them. */
    static final double INDEX_FILTER_SHARE = 0.1;
    static final long BLOCK_SIZE = 16 * 1024;
    static final int MEMTABLES_PER_STORE = 3;
    static final long MEMTABLE_BYTES = 8L * 1024 * 1024;

    /**
     * One cache per budget, shared by every store configured with it (every task and Streams instance of the JVM
     * that sets the same value). Never freed: stores come and go with rebalances, the budget stays.
     */
    private static final Map<Long, Shared> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

    record Shared(Cache cache, WriteBufferManager writeBuffers) {}

    static Shared shared(long budget) {
        return SHARED.computeIfAbsent(budget, b -> {
            // Not a strict limit: a full strict cache fails reads ("Insert failed"), so the bound is soft.
            Cache cache = new LRUCache(b, -1, false, INDEX_FILTER_SHARE);
            return new Shared(cache, new WriteBufferManager((long) (b * MEMTABLE_SHARE), cache));
        });
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        Object configured = configs.get(SidewinderConfig.ROCKSDB_MEMORY_BYTES);
        long budget = configured == null ? SidewinderConfig.DEFAULT_ROCKSDB_MEMORY_BYTES
                : Long.parseLong(configured.toString().trim());
        Shared s = shared(budget);
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(s.cache());
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        table.setBlockSize(BLOCK_SIZE);
        options.setWriteBufferManager(s.writeBuffers());
        options.setMaxWriteBufferNumber(MEMTABLES_PER_STORE);
        options.setWriteBufferSize(MEMTABLE_BYTES);
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // The cache and the write-buffer manager are shared by every store: closing one store must not free them.
    }
}
