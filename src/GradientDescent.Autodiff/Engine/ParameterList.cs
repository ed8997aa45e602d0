using System.Collections;

namespace GradientDescent.Autodiff;

/// <summary>
/// The parameters used on one recording of a tape, indexed by their leaf's <see cref="NodeRecord.A"/>, and for those
/// read in place (vectors and matrices) the version each had when recorded. Kept as entries of a struct: storing a
/// reference into an array of an abstract class costs a type check per store (the runtime's covariance check), and a
/// step with a handful of ops would spend a tenth of its time there.
/// </summary>
internal sealed class ParameterList : IEnumerable<Parameter>
{
    private Entry[] _items = new Entry[8];

    /// <summary>How many parameters have been used.</summary>
    public int Count { get; private set; }

    /// <summary>The parameter of leaf slot <paramref name="index"/>.</summary>
    public Parameter this[int index] => _items[index].Parameter;

    /// <summary>Appends a parameter whose value was copied into the tape (a plain store).</summary>
    public void Add(Parameter parameter)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new Entry(parameter, -1, 0);
    }

    /// <summary>
    /// Appends a parameter read in place by leaf node <paramref name="node"/>, with its version now (see
    /// <see cref="FirstModified"/>).
    /// </summary>
    public void AddInPlace(Parameter parameter, int node)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new Entry(parameter, node, parameter.Version);
    }

    /// <summary>
    /// The first parameter read in place by a node up to <paramref name="output"/> whose version has changed since
    /// (an optimizer step between recording and a backward pass), with its node and version then; null if none.
    /// </summary>
    public (int Node, Parameter Parameter, int Version)? FirstModified(int output)
    {
        for (int i = 0; i < Count; i++)
        {
            ref readonly Entry e = ref _items[i];
            if (e.Node >= 0 && e.Node <= output && e.Parameter.Version != e.Version) return (e.Node, e.Parameter, e.Version);
        }
        return null;
    }

    /// <summary>Forgets every parameter (and lets the collector have them).</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
    }

    /// <inheritdoc/>
    public IEnumerator<Parameter> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _items[i].Parameter;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A parameter; for one read in place, its leaf node and its version when recorded (else node −1).</summary>
    private readonly struct Entry(Parameter parameter, int node, int version)
    {
        public readonly Parameter Parameter = parameter;
        public readonly int Node = node;
        public readonly int Version = version;
    }
}
