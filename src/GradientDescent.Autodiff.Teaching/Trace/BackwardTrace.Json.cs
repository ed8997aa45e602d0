using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace GradientDescent.Autodiff.Teaching;

public sealed partial class BackwardTrace
{
    /// <summary>The schema name written as the "schema" field; a change to the fields below changes its version.</summary>
    public const string JsonSchema = "gradientdescent-autodiff/backward-trace/1";

    /// <summary>
    /// The trace as one JSON object (UTF-8 text, indented, "\n" line ends), deterministic: the same graph gives the
    /// same bytes. Every array is complete (no "…").
    /// </summary>
    /// <remarks>
    /// <para>Schema <see cref="JsonSchema"/>, fields in this order:</para>
    /// <code>
    /// {
    ///   "schema": "gradientdescent-autodiff/backward-trace/1",
    ///   "output": 20,                 // id of the loss node
    ///   "loss": 24.70408163265306,
    ///   "steps": [                    // backward order: the loss first
    ///     {
    ///       "step": 1,                // from 1
    ///       "node": 20,               // tape id
    ///       "label": "g = Add(%17, %19)",   // as Tape.Format shows it
    ///       "name": "g",              // or null
    ///       "op": "Add",              // OpKind
    ///       "shape": "scalar",        // "scalar", "[n]" or "[r×c]"
    ///       "value": [24.70408163265306],     // row-major
    ///       "upstream": [1],          // ∂L/∂node, row-major
    ///       "terms": [                // one per input that takes a gradient; [] for a parameter
    ///         {
    ///           "input": 17, "position": 0, "inputLabel": "Divide(%15, %16)", "inputShape": "scalar",
    ///           "formula": "1",       // ∂node/∂input (see TraceTerm.Formula)
    ///           "local": 1,           // a number for one-element elementwise nodes, else null
    ///           "contribution": [1],  // in the input's shape, row-major
    ///           "runningSum": [1],    // ∂L/∂input after this contribution
    ///           "use": 1, "uses": 1   // contribution k of n into this input
    ///         }
    ///       ]
    ///     }
    ///   ]
    /// }
    /// </code>
    /// <para>Numbers are written in the shortest form that reads back to the same double; NaN and infinities, which
    /// JSON has no numbers for, as the strings "NaN", "Infinity" and "-Infinity". Text keeps its Unicode (∂, σ, ḡ)
    /// unescaped, but characters that mean something in HTML (&lt; &gt; &amp; ' ") are escaped as \uXXXX, so the object
    /// can be embedded in a page's script as is.</para>
    /// </remarks>
    public string ToJson()
    {
        var options = new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
        };
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            w.WriteString("schema", JsonSchema);
            w.WriteNumber("output", Output);
            w.WritePropertyName("loss");
            Write(w, Loss);
            w.WriteStartArray("steps");
            for (int s = 0; s < Steps.Count; s++)
            {
                TraceStep step = Steps[s];
                w.WriteStartObject();
                w.WriteNumber("step", s + 1);
                w.WriteNumber("node", step.Node);
                w.WriteString("label", step.Label);
                if (step.Name is null) w.WriteNull("name");
                else w.WriteString("name", step.Name);
                w.WriteString("op", step.Op.ToString());
                w.WriteString("shape", step.Shape.ToString());
                WriteArray(w, "value", step.Value);
                WriteArray(w, "upstream", step.Upstream);
                w.WriteStartArray("terms");
                foreach (TraceTerm t in step.Terms)
                {
                    w.WriteStartObject();
                    w.WriteNumber("input", t.Input);
                    w.WriteNumber("position", t.Position);
                    w.WriteString("inputLabel", t.InputLabel);
                    w.WriteString("inputShape", t.InputShape.ToString());
                    w.WriteString("formula", t.Formula);
                    w.WritePropertyName("local");
                    if (t.Local is double local) Write(w, local);
                    else w.WriteNullValue();
                    WriteArray(w, "contribution", t.Contribution);
                    WriteArray(w, "runningSum", t.RunningSum);
                    w.WriteNumber("use", t.Use);
                    w.WriteNumber("uses", t.Uses);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteArray(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (double v in values) Write(w, v);
        w.WriteEndArray();
    }

    /// <summary>A number, or for NaN and ±∞ (not JSON numbers) the strings "NaN", "Infinity", "-Infinity".</summary>
    private static void Write(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteStringValue(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
}
