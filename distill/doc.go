// Package distill is lineage's knowledge-distillation engine: it trains a
// student *model.MLP either on a dataset's hard labels (lineage train) or
// to imitate a teacher model.Model (lineage distill), deterministically for
// a given seed, without printing anything (progress goes to a callback).
//
// # Training loop
//
// Train(ctx, Config) validates the configuration, builds the student
// (Config.Student or model.NewMLP with Config.Hidden), sets its input
// normalisation from the training split (dataset.Standardizer), builds the
// transfer set, queries the teacher once through Predict (in batches,
// counting every row: Result.Queries), applies the reveal policy
// (model.Reveal) to the teacher's outputs and caches them. It then runs
// Epochs epochs of shuffled mini-batches: forward, loss (Objective),
// backward, gradient clipping (ClipGlobalNorm), optimizer step (Optimizer)
// with the learning rate of the Schedule. After every epoch it evaluates
// the validation split, writes a checkpoint and calls Config.Progress with
// EpochStats.
//
// By default the returned student has the LAST epoch's weights (figures
// are then not tuned on validation); Config.RestoreBest returns the best
// validation epoch instead, and Config.Patience stops early.
//
// # Losses
//
// Objective documents the loss per row. The soft term is one of KL
// (Hinton's T²·KL(p_T‖q_T)), reverse KL, the generalized Jensen–Shannon
// divergence JSD_β (convention on Loss: β→0 is KL(P‖Q), β→1 is KL(Q‖P)),
// total variation, MSE on logits (teacher logits = centred log-probabilities)
// or cross-entropy on the teacher's argmax. Labelled transfer rows mix it
// with the hard-label cross-entropy: α·soft + (1−α)·CE. With top-k reveal
// teacher and student are compared on K+1 buckets (the K revealed classes and
// the tail); with label reveal the loss is cross-entropy on the revealed
// one-hot.
//
// # Transfer sets
//
// Transfer (ParseTransfer) lists sources — training data, uniform noise over
// the data range, Gaussian jitter around training rows, mixup of two
// training rows with λ ~ Uniform(0,1) — that split an exact query budget.
//
// # Checkpoints and resume
//
// With Config.CheckpointPath a checkpoint is written atomically (temporary
// file + rename) after every epoch and when ctx is cancelled (then mid-epoch).
// It holds the student, optimizer state, the shuffle RNG state, the epoch and
// batch position, the history and the cached transfer set and teacher
// outputs, so Config.Resume continues without querying the teacher again and
// ends with bit-identical weights to an uninterrupted run. Progress is
// called after the epoch's checkpoint, so a process killed in between has
// reported one epoch fewer than it saved; Config.OnResume hands the resumed
// run the checkpoint's history, from which a caller's own per-epoch record
// can be rebuilt.
//
// # Defaults
//
// Zero Config fields mean: hidden [64], relu, loss kl, T = 4, α = 0.9, full
// reveal, transfer "data" with one query per training row, 40 epochs, batch
// 32, Adam with learning rate 5e-3 and (coupled L2) weight decay 1e-3, cosine
// decay to 1% of the rate, no clipping, no early stopping. On the embedded
// digits (standard split, seed 1) they give, on the test split
// (TestDigitsQuality, ~15 s on 2 cores in all):
//
//	teacher 64-256-256-10, hard labels:                  accuracy 0.978
//	student 64-16-10, T=4, α=0.9, data, full reveal:     accuracy 0.958, agreement 0.978
//	student 64-64-10, mixup, label reveal, 5000 queries: accuracy 0.967, agreement 0.981
package distill
