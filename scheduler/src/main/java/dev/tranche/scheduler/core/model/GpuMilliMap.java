package dev.tranche.scheduler.core.model;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A replica's milli-GPU by GPU index, immutable, in ascending index order: one array of
 * (index, milli) pairs. A running replica lives for hours and a busy cluster holds ~50,000 of them; as
 * a sorted tree map behind an unmodifiable view each took about a dozen objects, which every young
 * collection copied while they were new (docs/benchmarks.md, "Fewer collections per cycle").
 */
final class GpuMilliMap
        extends AbstractMap<Integer, Integer>
{
    // index, milli, index, milli, ... by ascending index
    private final int[] pairs;

    private GpuMilliMap(int[] pairs)
    {
        this.pairs = pairs;
    }

    /** A sorted copy of {@code gpuMilli}. */
    static GpuMilliMap copyOf(Map<Integer, Integer> gpuMilli)
    {
        if (gpuMilli instanceof GpuMilliMap map) {
            return map;
        }
        long[] sorted = new long[gpuMilli.size()];
        int n = 0;
        for (Map.Entry<Integer, Integer> entry : gpuMilli.entrySet()) {
            sorted[n++] = pair(requireNonNull(entry.getKey(), "GPU index is null"), requireNonNull(entry.getValue(), "GPU milli is null"));
        }
        return sorted(sorted);
    }

    /** {@code milli[i]} on GPU {@code indexes[i]}; every index once. */
    static GpuMilliMap of(int[] indexes, int[] milli)
    {
        if (indexes.length != milli.length) {
            throw new IllegalArgumentException(indexes.length + " GPU indexes but " + milli.length + " amounts");
        }
        long[] sorted = new long[indexes.length];
        for (int i = 0; i < sorted.length; i++) {
            sorted[i] = pair(indexes[i], milli[i]);
        }
        GpuMilliMap map = sorted(sorted);
        for (int i = 1; i < map.count(); i++) {
            if (map.indexAt(i) == map.indexAt(i - 1)) {
                throw new IllegalArgumentException("GPU " + map.indexAt(i) + " is listed twice");
            }
        }
        return map;
    }

    // index in the high half (its sign kept, so that longs sort by index), milli in the low half
    private static long pair(int index, int milli)
    {
        return ((long) index << 32) | (milli & 0xFFFF_FFFFL);
    }

    private static GpuMilliMap sorted(long[] sorted)
    {
        Arrays.sort(sorted);
        int n = sorted.length;
        int[] pairs = new int[2 * n];
        for (int i = 0; i < n; i++) {
            pairs[2 * i] = (int) (sorted[i] >> 32);
            pairs[2 * i + 1] = (int) sorted[i];
        }
        return new GpuMilliMap(pairs);
    }

    int count()
    {
        return pairs.length / 2;
    }

    int indexAt(int i)
    {
        return pairs[2 * i];
    }

    int milliAt(int i)
    {
        return pairs[2 * i + 1];
    }

    long total()
    {
        long total = 0;
        for (int i = 1; i < pairs.length; i += 2) {
            total += pairs[i];
        }
        return total;
    }

    @Override
    public int size()
    {
        return count();
    }

    @Override
    public boolean containsKey(Object key)
    {
        return find(key) >= 0;
    }

    @Override
    public Integer get(Object key)
    {
        int i = find(key);
        return i < 0 ? null : pairs[2 * i + 1];
    }

    private int find(Object key)
    {
        if (!(key instanceof Integer index)) {
            return -1;
        }
        int low = 0;
        int high = count() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int at = pairs[2 * mid];
            if (at < index) {
                low = mid + 1;
            }
            else if (at > index) {
                high = mid - 1;
            }
            else {
                return mid;
            }
        }
        return -1;
    }

    // refused even when they would change nothing, as an unmodifiable map refuses them

    @Override
    public Integer put(Integer key, Integer value)
    {
        throw new UnsupportedOperationException("a replica's GPU shares cannot change");
    }

    @Override
    public Integer remove(Object key)
    {
        throw new UnsupportedOperationException("a replica's GPU shares cannot change");
    }

    @Override
    public void putAll(Map<? extends Integer, ? extends Integer> map)
    {
        throw new UnsupportedOperationException("a replica's GPU shares cannot change");
    }

    @Override
    public void clear()
    {
        throw new UnsupportedOperationException("a replica's GPU shares cannot change");
    }

    @Override
    public Set<Map.Entry<Integer, Integer>> entrySet()
    {
        return new AbstractSet<>()
        {
            @Override
            public Iterator<Map.Entry<Integer, Integer>> iterator()
            {
                return new Iterator<>()
                {
                    private int next;

                    @Override
                    public boolean hasNext()
                    {
                        return next < count();
                    }

                    @Override
                    public Map.Entry<Integer, Integer> next()
                    {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new AbstractMap.SimpleImmutableEntry<>(pairs[2 * i], pairs[2 * i + 1]);
                    }
                };
            }

            @Override
            public int size()
            {
                return count();
            }
        };
    }
}
