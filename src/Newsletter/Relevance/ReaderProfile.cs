namespace Newsletter.Relevance;

/// <summary>A vote a reader cast from a digest: the paper, its embedding, and "More like this" or "Less like this".</summary>
public sealed record ProfileVote(long PaperId, string Title, Embedding Paper, bool More)
{
    /// <summary>The voted paper's number among the papers a fan-out loaded votes for (dense, from 0), or -1: lets an
    /// issue find the paper's similarity row by index instead of by id.</summary>
    public int Slot { get; init; } = -1;
}

/// <summary>A reader's votes, split by direction once when they are loaded (each direction in the order cast).</summary>
public sealed class ProfileVotes
{
    public ProfileVotes(IReadOnlyList<ProfileVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        var liked = 0;
        for (var v = 0; v < votes.Count; v++)
        {
            liked += votes[v].More ? 1 : 0;
        }

        Liked = liked == 0 ? [] : new ProfileVote[liked];
        Disliked = liked == votes.Count ? [] : new ProfileVote[votes.Count - liked];
        int l = 0, d = 0;
        for (var v = 0; v < votes.Count; v++)
        {
            if (votes[v].More)
            {
                Liked[l++] = votes[v];
            }
            else
            {
                Disliked[d++] = votes[v];
            }
        }
    }

    public static ProfileVotes None { get; } = new([]);

    public ProfileVote[] Liked { get; }

    public ProfileVote[] Disliked { get; }

    /// <summary>Every vote, the liked first; made when asked for (a fan-out holds 100,000 readers' votes).</summary>
    public IReadOnlyList<ProfileVote> All => [.. Liked, .. Disliked];

    /// <summary>True before any vote: the digest then shows every keyword match, as keywords alone would.</summary>
    public bool Any => Liked.Length + Disliked.Length > 0;
}

/// <summary>
/// What the service knows of a reader's interest: the keyword line read for meaning (null when the line has no
/// positive term) and every vote they cast. Built afresh from stored votes whenever a digest is ranked, so a vote
/// counts from the next digest on.
/// </summary>
public sealed class ReaderProfile
{
    public ReaderProfile(string interests, Embedding? interestsVector, IReadOnlyList<ProfileVote> votes)
        : this(interests, interestsVector, new ProfileVotes(votes))
    {
    }

    public ReaderProfile(string interests, Embedding? interestsVector, ProfileVotes votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        Interests = interests ?? "";
        InterestsVector = interestsVector;
        Split = votes;
    }

    /// <summary>The keyword line (as embedded); profiles with the same line share its similarity row.</summary>
    public string Interests { get; }

    public Embedding? InterestsVector { get; }

    /// <summary>The votes by direction.</summary>
    public ProfileVotes Split { get; }

    public IReadOnlyList<ProfileVote> Votes => Split.All;

    public IReadOnlyList<ProfileVote> Liked => Split.Liked;

    public IReadOnlyList<ProfileVote> Disliked => Split.Disliked;

    /// <summary>True before any vote: the digest then shows every keyword match, as keywords alone would.</summary>
    public bool HasVotes => Split.Any;
}
