using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// An ONNX model's weight matrices stored as 8-bit integers, the way ONNX Runtime's <c>quantize_dynamic</c> writes them
/// (per output column, symmetric): each <c>MatMul</c> by a constant float matrix becomes <c>DynamicQuantizeLinear</c>
/// of its input, <c>MatMulInteger</c>, and a rescale, which ONNX Runtime fuses into one integer kernel. Activations are
/// quantized per call, one scale for the whole call. Measured for MiniLM (model <c>minilm-int8</c>) and not taken:
/// a third less CPU per text, and less quality than the float model (docs/relevance.md).
/// </summary>
public static class Int8Weights
{
    /// <summary>The model serialized again with every constant 2-D float <c>MatMul</c> weight quantized.</summary>
    public static byte[] Quantize(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parsed = ModelProto.Parser.ParseFrom(model);
        Quantize(parsed.Graph);
        return parsed.ToByteArray();
    }

    /// <summary>Rewrites <paramref name="graph"/> in place; returns how many matrices it quantized.</summary>
    public static int Quantize(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var uses = graph.Node.SelectMany(n => n.Input).CountBy(i => i).ToDictionary();
        var nodes = new List<NodeProto>(graph.Node.Count);
        var done = new Dictionary<string, (TensorProto Matrix, TensorProto Scale, TensorProto Zero)>(StringComparer.Ordinal);
        var quantized = 0;
        foreach (var node in graph.Node)
        {
            if (node.OpType != "MatMul" || node.Domain.Length > 0
                || !initializers.TryGetValue(node.Input[1], out var weight) || !IsFloatMatrix(weight))
            {
                nodes.Add(node);
                continue;
            }

            var name = weight.Name;
            if (!done.TryGetValue(name, out var q))
            {
                // A matrix two nodes share is quantized once.
                var (values, scales) = QuantizeColumns(weight);
                q = (Tensor($"{name}_int8", TensorProto.Types.DataType.Int8, values, weight.Dims),
                    Tensor($"{name}_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(scales.AsSpan()).ToArray(), [scales.Length]),
                    Tensor($"{name}_zero_point", TensorProto.Types.DataType.Int8, new byte[scales.Length], [scales.Length]));
                graph.Initializer.Add(q.Matrix);
                graph.Initializer.Add(q.Scale);
                graph.Initializer.Add(q.Zero);
                done[name] = q;
            }
            var (matrix, scale, zero) = q;

            var p = $"{node.Name}_int8";
            nodes.Add(Node("DynamicQuantizeLinear", p, [node.Input[0]], [$"{p}_input", $"{p}_input_scale", $"{p}_input_zero_point"]));
            nodes.Add(Node("MatMulInteger", p, [$"{p}_input", matrix.Name, $"{p}_input_zero_point", zero.Name], [$"{p}_product"]));
            var cast = Node("Cast", p, [$"{p}_product"], [$"{p}_product_float"]);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
            nodes.Add(cast);
            nodes.Add(Node("Mul", $"{p}_scales", [$"{p}_input_scale", scale.Name], [$"{p}_scale"]));
            nodes.Add(Node("Mul", p, [$"{p}_product_float", $"{p}_scale"], [.. node.Output]));

            if (--uses[name] == 0)
            {
                graph.Initializer.Remove(weight);
            }
            quantized++;
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        return quantized;
    }

    private static bool IsFloatMatrix(TensorProto tensor) =>
        tensor.Dims.Count == 2 && tensor.DataType == (int)TensorProto.Types.DataType.Float && tensor.DataLocation == TensorProto.Types.DataLocation.Default;

    /// <summary>Each column scaled so its largest magnitude is 127, rounded to the nearest integer.</summary>
    private static (byte[] Values, float[] Scales) QuantizeColumns(TensorProto weight)
    {
        var floats = weight.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray() : [.. weight.FloatData];
        var rows = (int)weight.Dims[0];
        var columns = (int)weight.Dims[1];
        var scales = new float[columns];
        for (var i = 0; i < floats.Length; i++)
        {
            scales[i % columns] = MathF.Max(scales[i % columns], MathF.Abs(floats[i]));
        }
        for (var c = 0; c < columns; c++)
        {
            scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
        }

        var values = new byte[rows * columns];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = unchecked((byte)(sbyte)Math.Clamp((int)MathF.Round(floats[i] / scales[i % columns]), -127, 127));
        }
        return (values, scales);
    }

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, byte[] data, IEnumerable<long> dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = $"{name}_{op}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }
}
