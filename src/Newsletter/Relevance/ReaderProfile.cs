namespace Newsletter.Relevance;

/// <summary>A vote a reader cast from a digest: the paper, its embedding, and "More like this" or "Less like this".</summary>
public sealed record ProfileVote(long PaperId, string Title, Embedding Paper, bool More);

/// <summary>
/// What the service knows of a reader's interest: the keyword line read for meaning (null when the line has no
/// positive term) and every vote they cast. Built afresh from stored votes whenever a digest is ranked, so a vote
/// counts from the next digest on.
/// </summary>
public sealed class ReaderProfile
{
    public ReaderProfile(string interests, Embedding? interestsVector, IReadOnlyList<ProfileVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        Interests = interests ?? "";
        InterestsVector = interestsVector;
        Votes = votes;
        Liked = votes.Where(v => v.More).ToArray();
        Disliked = votes.Where(v => !v.More).ToArray();
    }

    /// <summary>The keyword line as typed; profiles with the same line share its similarity rows.</summary>
    public string Interests { get; }

    public Embedding? InterestsVector { get; }

    public IReadOnlyList<ProfileVote> Votes { get; }

    public IReadOnlyList<ProfileVote> Liked { get; }

    public IReadOnlyList<ProfileVote> Disliked { get; }

    /// <summary>True before any vote: the digest then shows every keyword match, as keywords alone would.</summary>
    public bool HasVotes => Votes.Count > 0;
}
