using System.Buffers.Binary;
using System.Numerics;

namespace Newsletter.Relevance;

/// <summary>
/// A text's meaning as a unit-length vector: one per paper (computed once, at ingestion) and one per interests line.
/// Stored in PostgreSQL as <c>bytea</c> (<see cref="ToBytes"/>: little-endian float32, 4 bytes a dimension).
/// </summary>
public sealed class Embedding
{
    private readonly float[] _values;

    private Embedding(float[] values) => _values = values;

    public int Dimensions => _values.Length;

    public ReadOnlySpan<float> Values => _values;

    /// <summary>The vector scaled to unit length; a zero vector stays zero (it is similar to nothing).</summary>
    public static Embedding Normalize(ReadOnlySpan<float> values)
    {
        var copy = values.ToArray();
        double norm = 0;
        foreach (var v in copy)
        {
            norm += v * v;
        }

        if (norm > 0)
        {
            var scale = (float)(1 / Math.Sqrt(norm));
            for (var i = 0; i < copy.Length; i++)
            {
                copy[i] *= scale;
            }
        }

        return new Embedding(copy);
    }

    /// <summary>Cosine similarity with another vector of the same model (both are unit length): -1 to 1.</summary>
    public double Similarity(Embedding other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._values.Length != _values.Length)
        {
            throw new ArgumentException($"Vectors of {_values.Length} and {other._values.Length} dimensions come from different models.", nameof(other));
        }

        return Dot(_values, other._values);
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i + Vector<float>.Count <= a.Length; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var total = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[_values.Length * sizeof(float)];
        for (var i = 0; i < _values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), _values[i]);
        }

        return bytes;
    }

    public static Embedding FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new ArgumentException($"An embedding is a whole number of 4-byte floats; got {bytes.Length} bytes.", nameof(bytes));
        }

        var values = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        }

        return Normalize(values);
    }
}
