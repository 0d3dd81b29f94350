using System.Numerics;
using System.Runtime.CompilerServices;

namespace Newsletter.Subscribers;

/// <summary>Parallel spans of items and their keys, kept largest key first as items arrive (an insertion sort step).</summary>
internal static class BestFirst
{
    /// <summary>
    /// Inserts <paramref name="item"/> among the first <paramref name="count"/> entries, after every key at least as large
    /// as <paramref name="key"/> (ties keep arrival order); the spans need room for one more entry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Insert<TItem, TKey>(Span<TItem> items, Span<TKey> keys, int count, TItem item, TKey key)
        where TKey : INumber<TKey>
    {
        var j = count - 1;
        while (j >= 0 && keys[j] < key)
        {
            items[j + 1] = items[j];
            keys[j + 1] = keys[j];
            j--;
        }

        items[j + 1] = item;
        keys[j + 1] = key;
    }
}
