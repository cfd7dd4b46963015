//! The engine on real models and golden datasets (made by `scripts/fixtures/make_fixtures.py`, which
//! `scripts/setup.sh` runs), cross-checked against the scores onnxruntime computes on the same inputs.

use modelchain_evaluation::{
	evaluate, sha256, verify_artifact, EvalError, Evaluation, GoldenInput, GoldenSet, Labels,
	Metric, PPB,
};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/out");
	assert!(
		dir.join("reference.json").is_file(),
		"fixtures missing at {}: run scripts/setup.sh (it generates them)",
		dir.display()
	);
	dir
}

fn read(name: &str) -> Vec<u8> {
	std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn reference(model: &str, metric: &str) -> (u64, f64) {
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let entry = &json[model][metric];
	(entry["ppb"].as_u64().unwrap(), entry["value"].as_f64().unwrap())
}

fn golden(name: &str) -> GoldenSet {
	GoldenSet::from_safetensors(&read(name)).expect("golden set parses")
}

fn score(model: &str, dataset: &str, metric: Metric) -> Result<u64, EvalError> {
	evaluate(&read(model), &golden(dataset), metric).map(|e| e.score)
}

/// The classifier's accuracy and top-`k` accuracy on `dataset` are onnxruntime's, its cross-entropy
/// within 1e-6; it is a real classifier (above 85 %).
fn scores_equal_onnxruntime(model: &str, dataset: &str, k: u32) {
	file_scores_equal_onnxruntime(model, model, dataset, k);
}

/// [`scores_equal_onnxruntime`] for `file`.onnx, an export of `model`.
fn file_scores_equal_onnxruntime(file: &str, model: &str, dataset: &str, k: u32) {
	file_scores_within(file, model, dataset, k, 1e-6);
}

/// [`file_scores_equal_onnxruntime`] with the cross-entropy within `tolerance`, relative.
fn file_scores_within(file: &str, model: &str, dataset: &str, k: u32, tolerance: f64) {
	let golden = golden(dataset);
	let bytes = read(&format!("{file}.onnx"));
	let top_k = format!("top{k}_accuracy");
	for (metric, name) in
		[(Metric::Accuracy, "accuracy"), (Metric::TopKAccuracy(k), top_k.as_str())]
	{
		let (expected, _) = reference(model, name);
		assert_eq!(
			evaluate(&bytes, &golden, metric).map(|e| e.score),
			Ok(expected),
			"{file} {name}"
		);
	}
	let (expected, _) = reference(model, "accuracy");
	assert!(expected > 850_000_000, "{model} is a real classifier");
	let (_, expected) = reference(model, "mean_cross_entropy");
	let actual = evaluate(&bytes, &golden, Metric::MeanCrossEntropy).unwrap().score;
	assert_within(actual, expected, tolerance, file);
}

/// The model's mean squared error on the diabetes golden set is onnxruntime's.
fn regressor_equals_onnxruntime(model: &str) {
	let (_, expected) = reference(model, "mean_squared_error");
	let actual =
		score(&format!("{model}.onnx"), "diabetes_golden.safetensors", Metric::MeanSquaredError);
	assert_close(actual.unwrap(), expected, model);
}

fn assert_close(actual_ppb: u64, expected: f64, what: &str) {
	assert_within(actual_ppb, expected, 1e-6, what);
}

/// `actual_ppb` is `expected` within `tolerance`, relative.
fn assert_within(actual_ppb: u64, expected: f64, tolerance: f64, what: &str) {
	let actual = actual_ppb as f64 / PPB as f64;
	let relative = ((actual - expected) / expected).abs();
	assert!(
		relative <= tolerance,
		"{what}: engine {actual}, onnxruntime {expected} (relative error {relative:e})"
	);
}

#[test]
fn accuracy_equals_onnxruntime() {
	let (expected, _) = reference("digits_mlp", "accuracy");
	assert_eq!(
		score("digits_mlp.onnx", "digits_golden.safetensors", Metric::Accuracy),
		Ok(expected)
	);
	assert!(expected > 950_000_000, "the fixture model is a real classifier");
}

#[test]
fn top_k_accuracy_equals_onnxruntime() {
	let (expected, _) = reference("digits_mlp_poisoned", "top3_accuracy");
	assert_eq!(
		score("digits_mlp_poisoned.onnx", "digits_golden.safetensors", Metric::TopKAccuracy(3)),
		Ok(expected)
	);
	let (expected, _) = reference("digits_mlp", "top3_accuracy");
	assert_eq!(
		score("digits_mlp.onnx", "digits_golden.safetensors", Metric::TopKAccuracy(3)),
		Ok(expected)
	);
}

#[test]
fn cross_entropy_matches_onnxruntime() {
	for model in ["digits_mlp", "digits_mlp_poisoned"] {
		let (_, expected) = reference(model, "mean_cross_entropy");
		let actual =
			score(&format!("{model}.onnx"), "digits_golden.safetensors", Metric::MeanCrossEntropy)
				.unwrap();
		assert_close(actual, expected, model);
	}
}

#[test]
fn mean_squared_error_matches_onnxruntime() {
	let (_, expected) = reference("diabetes_linear", "mean_squared_error");
	let actual =
		score("diabetes_linear.onnx", "diabetes_golden.safetensors", Metric::MeanSquaredError)
			.unwrap();
	assert_close(actual, expected, "diabetes MSE");
}

#[test]
fn a_convolutional_network_with_a_softmax_output_equals_onnxruntime() {
	let images = "digits_images_golden.safetensors";
	let (expected, _) = reference("digits_conv", "accuracy");
	assert_eq!(score("digits_conv.onnx", images, Metric::Accuracy), Ok(expected));
	assert!(expected > 950_000_000, "the fixture model is a real classifier");
	let (expected, _) = reference("digits_conv", "top3_accuracy");
	assert_eq!(score("digits_conv.onnx", images, Metric::TopKAccuracy(3)), Ok(expected));
	// Its outputs are probabilities: the loss is their logarithm, not their log-softmax.
	let (_, expected) = reference("digits_conv", "mean_cross_entropy");
	let actual = score("digits_conv.onnx", images, Metric::MeanCrossEntropy).unwrap();
	assert_close(actual, expected, "conv net cross-entropy");
}

#[test]
fn quantized_and_shape_annotated_models_equal_onnxruntime() {
	let (digits, images) = ("digits_golden.safetensors", "digits_images_golden.safetensors");
	for (model, dataset) in [
		// onnxruntime's dynamic int8 quantization: `DynamicQuantizeLinear`, `MatMulInteger`.
		("digits_mlp_int8", digits),
		// Its static quantization in the QDQ format, down to the Softmax's probabilities, which tract
		// would compute from a lookup table of single values were each `QuantizeLinear` and its
		// `DequantizeLinear` left to it (every sample then scores every class 1.0: 10 % accuracy).
		("digits_conv_qdq", images),
	] {
		scores_equal_onnxruntime(model, dataset, 3);
	}
	// The QOperator format: onnxruntime's `com.microsoft` `QGemm`, `QLinearSoftmax`, `QLinearAdd`,
	// `QLinearMul`, `QLinearSigmoid`, `QLinearLeakyRelu`, `QLinearAveragePool`, `QLinearConcat` and
	// `QLinearGlobalAveragePool` (unsupported operators before), next to the standard `QLinearConv`;
	// per tensor and per channel.
	for (model, dataset) in [
		("digits_conv_qop", images),
		("digits_conv_qop_per_channel", images),
		("digits_ops_qop", images),
	] {
		scores_equal_onnxruntime(model, dataset, 3);
	}
	// The float network of those operators scores onnxruntime's.
	scores_equal_onnxruntime("digits_ops", images, 3);
	// The `value_info` of `onnx.shape_inference`, batch `N`: were it read, every intermediate shape would
	// be a shape mismatch against the batch the engine feeds.
	for (model, dataset) in [
		("digits_mlp", digits),
		("digits_conv", images),
		("digits_mlp_int8", digits),
		("digits_conv_qdq", images),
	] {
		file_scores_equal_onnxruntime(&format!("{model}_inferred"), model, dataset, 3);
	}
}

#[test]
fn half_precision_models_equal_onnxruntime() {
	// float16 weights with float16 input and output, or float32 ones through `Cast`s; the golden sets
	// are float32. Their `Gemm`s were a shape mismatch until their bias was added in float16. Accuracy
	// and top-3 are onnxruntime's; tract and onnxruntime accumulate float16 products differently, so the
	// cross-entropy agrees within float16's precision (2⁻¹⁰ ≈ 1e-3), not to 1e-6.
	let (digits, images) = ("digits_golden.safetensors", "digits_images_golden.safetensors");
	for (model, dataset) in [
		("digits_mlp_f16", digits),
		("digits_mlp_f16_io32", digits),
		("digits_conv_f16", images),
		("digits_conv_f16_io32", images),
	] {
		file_scores_within(model, model, dataset, 3, 1e-3);
	}
}

#[test]
fn a_binary_classifier_with_one_output_equals_onnxruntime() {
	// The same logistic regression, once ending in a Sigmoid (class 1's probability), once not (its logit).
	for model in ["cancer_logistic", "cancer_logit"] {
		let file = format!("{model}.onnx");
		let (expected, _) = reference(model, "accuracy");
		assert_eq!(
			score(&file, "cancer_golden.safetensors", Metric::Accuracy),
			Ok(expected),
			"{model}"
		);
		assert!(expected > 900_000_000, "{model} is a real classifier");
		let (_, expected) = reference(model, "mean_cross_entropy");
		let actual = score(&file, "cancer_golden.safetensors", Metric::MeanCrossEntropy).unwrap();
		assert_close(actual, expected, model);
	}
	// Two classes: top-2 accuracy is every sample, top-3 is not a metric for them.
	assert_eq!(
		score("cancer_logit.onnx", "cancer_golden.safetensors", Metric::TopKAccuracy(2)),
		Ok(PPB)
	);
	assert!(matches!(
		score("cancer_logit.onnx", "cancer_golden.safetensors", Metric::TopKAccuracy(3)),
		Err(EvalError::BadMetric(_))
	));
}

#[test]
fn a_poisoned_update_scores_far_below_the_honest_one() {
	let honest = score("digits_mlp.onnx", "digits_golden.safetensors", Metric::Accuracy).unwrap();
	let poisoned =
		score("digits_mlp_poisoned.onnx", "digits_golden.safetensors", Metric::Accuracy).unwrap();
	assert_eq!(poisoned, reference("digits_mlp_poisoned", "accuracy").0);
	assert!(poisoned < honest / 2);
}

#[test]
fn a_fixed_batch_model_is_fed_sample_by_sample_with_the_same_result() {
	let dynamic = score("digits_mlp.onnx", "digits_golden.safetensors", Metric::Accuracy).unwrap();
	let batch1 =
		score("digits_mlp_batch1.onnx", "digits_golden.safetensors", Metric::Accuracy).unwrap();
	assert_eq!(batch1, dynamic);
}

#[test]
fn a_fixed_batch_on_any_input_is_honoured() {
	// Only the second input declares batch 1, and a `Reshape` to [1, 64] relies on it.
	let halves = golden("digits_golden_halves.safetensors");
	let (expected, _) = reference("digits_mlp_halves", "accuracy");
	let model = read("digits_mlp_halves_batch1.onnx");
	assert_eq!(evaluate(&model, &halves, Metric::Accuracy).map(|e| e.score), Ok(expected));
	// Inputs of batch 2 and 1.
	let conflict = evaluate(&read("bad_batch_conflict.onnx"), &halves, Metric::Accuracy);
	assert!(
		matches!(&conflict, Err(EvalError::ShapeMismatch(m)) if m.contains("different batch sizes [1, 2]")),
		"{conflict:?}"
	);
}

#[test]
fn evaluation_is_deterministic() {
	let a = evaluate(
		&read("digits_mlp.onnx"),
		&golden("digits_golden.safetensors"),
		Metric::MeanCrossEntropy,
	);
	let b = evaluate(
		&read("digits_mlp.onnx"),
		&golden("digits_golden.safetensors"),
		Metric::MeanCrossEntropy,
	);
	assert_eq!(a, b);
	assert_eq!(a.unwrap().samples, 540);
}

#[test]
fn malformed_models_are_typed_errors() {
	for bad in ["bad_truncated.onnx", "bad_not_onnx.onnx"] {
		let result = score(bad, "digits_golden.safetensors", Metric::Accuracy);
		assert!(matches!(result, Err(EvalError::MalformedModel(_))), "{bad}: {result:?}");
	}
	// Weights in "external data" naming a file of the validator's (/etc/passwd) are never read.
	let result = score("bad_external_data.onnx", "digits_golden.safetensors", Metric::Accuracy);
	assert!(
		matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("external data")),
		"{result:?}"
	);
}

#[test]
fn an_unsupported_operator_is_named() {
	let result = score("bad_unsupported_op.onnx", "digits_golden.safetensors", Metric::Accuracy);
	match result {
		Err(EvalError::UnsupportedOperator(op)) => assert!(op.contains("TotallyCustomOp"), "{op}"),
		other => panic!("expected UnsupportedOperator, got {other:?}"),
	}
}

#[test]
fn a_model_of_the_wrong_width_is_a_shape_mismatch() {
	let result = score("bad_shape_mismatch.onnx", "digits_golden.safetensors", Metric::Accuracy);
	assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
	// A classifier scored against regression targets of another width.
	let result = score("digits_mlp.onnx", "diabetes_golden.safetensors", Metric::MeanSquaredError);
	assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
}

#[test]
fn bad_golden_datasets_are_typed_errors() {
	for bad in [
		"bad_dataset_no_labels.safetensors",
		// Element types the engine does not compute with, a boolean byte of 2, a u64 class beyond i64.
		"bad_dataset_bf16_inputs.safetensors",
		"bad_dataset_bool_labels.safetensors",
		"bad_dataset_huge_label.safetensors",
		"bad_dataset_label_count.safetensors",
		// Two class indices per sample.
		"bad_dataset_label_pairs.safetensors",
		"bad_dataset_garbage.safetensors",
		// A NaN among the inputs would be blamed on the model; an infinite target would make every
		// model's loss infinite.
		"bad_dataset_nan_inputs.safetensors",
		"bad_dataset_inf_targets.safetensors",
	] {
		let result = GoldenSet::from_safetensors(&read(bad));
		assert!(matches!(result, Err(EvalError::BadDataset(_))), "{bad}: {result:?}");
	}
	let out_of_range = golden("bad_dataset_label_range.safetensors");
	let result = evaluate(&read("digits_mlp.onnx"), &out_of_range, Metric::Accuracy);
	assert!(matches!(result, Err(EvalError::BadDataset(_))), "{result:?}");
}

#[test]
fn class_labels_in_a_column_are_one_per_sample() {
	let model = read("digits_mlp.onnx");
	let column = golden("digits_golden_column_labels.safetensors");
	for metric in [Metric::Accuracy, Metric::TopKAccuracy(3), Metric::MeanCrossEntropy] {
		assert_eq!(
			evaluate(&model, &column, metric),
			evaluate(&model, &golden("digits_golden.safetensors"), metric),
			"{metric:?}"
		);
	}
}

#[test]
fn whole_float_labels_are_class_indices_for_classification_metrics() {
	// `y.astype(np.float32)` of a classifier's golden set: read as the classes they are.
	let model = read("digits_mlp.onnx");
	let digits = golden("digits_golden.safetensors");
	let Labels::Classes(classes) = &digits.labels else { panic!("class labels") };
	let floats = |values: Vec<f64>| GoldenSet {
		labels: Labels::Targets { values, width: 1 },
		..digits.clone()
	};
	let as_floats = floats(classes.iter().map(|&c| c as f64).collect());
	for metric in [Metric::Accuracy, Metric::TopKAccuracy(3), Metric::MeanCrossEntropy] {
		assert_eq!(
			evaluate(&model, &as_floats, metric),
			evaluate(&model, &digits, metric),
			"{metric:?}"
		);
	}
	// A fraction or a negative value is no class index.
	for bad in [0.5, -1.0, f64::MAX] {
		let mut values: Vec<f64> = classes.iter().map(|&c| c as f64).collect();
		values[7] = bad;
		let result = evaluate(&model, &floats(values), Metric::Accuracy);
		assert!(
			matches!(&result, Err(EvalError::BadMetric(m)) if m.contains(&format!("{bad}"))),
			"{bad}: {result:?}"
		);
	}
	// Two targets per sample stay regression targets.
	let values = classes.iter().flat_map(|&c| [c as f64, 0.0]).collect();
	let pairs = GoldenSet { labels: Labels::Targets { values, width: 2 }, ..digits.clone() };
	let result = evaluate(&model, &pairs, Metric::Accuracy);
	assert!(matches!(result, Err(EvalError::BadMetric(_))), "{result:?}");
}

#[test]
fn integer_labels_are_targets_of_a_single_output_under_mean_squared_error() {
	// A binary classifier's probability against its 0/1 labels: the Brier score, as with float targets.
	let model = read("cancer_logistic.onnx");
	let cancer = golden("cancer_golden.safetensors");
	let Labels::Classes(classes) = &cancer.labels else { panic!("class labels") };
	let values = classes.iter().map(|&c| c as f64).collect();
	let targets = GoldenSet { labels: Labels::Targets { values, width: 1 }, ..cancer.clone() };
	let brier = evaluate(&model, &cancer, Metric::MeanSquaredError).unwrap();
	assert_eq!(Ok(brier), evaluate(&model, &targets, Metric::MeanSquaredError));
	// A good classifier: well below the 0.25 of a constant 0.5.
	assert!(brier.score > 0 && brier.score < PPB / 10, "{brier:?}");
}

#[test]
fn metrics_that_do_not_fit_the_labels_are_refused() {
	let digits = golden("digits_golden.safetensors");
	assert!(matches!(digits.labels, Labels::Classes(_)));
	let model = read("digits_mlp.onnx");
	for metric in [Metric::TopKAccuracy(0), Metric::TopKAccuracy(11), Metric::MeanSquaredError] {
		let result = evaluate(&model, &digits, metric);
		assert!(matches!(result, Err(EvalError::BadMetric(_))), "{metric:?}: {result:?}");
	}
	let result = evaluate(
		&read("diabetes_linear.onnx"),
		&golden("diabetes_golden.safetensors"),
		Metric::Accuracy,
	);
	assert!(matches!(result, Err(EvalError::BadMetric(_))), "{result:?}");
}

#[test]
fn artifacts_are_verified_by_sha256_and_size() {
	// The FIPS 180-2 test vector.
	let abc = sha256(b"abc");
	assert_eq!(
		abc.iter().map(|b| format!("{b:02x}")).collect::<String>(),
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	);
	let model = read("digits_mlp.onnx");
	let digest = sha256(&model);
	assert_eq!(verify_artifact(&model, &digest, model.len() as u64), Ok(()));
	let mut tampered = model.clone();
	tampered[100] ^= 1;
	assert!(matches!(
		verify_artifact(&tampered, &digest, model.len() as u64),
		Err(EvalError::DigestMismatch { .. })
	));
	assert_eq!(
		verify_artifact(&model[1..], &digest, model.len() as u64),
		Err(EvalError::SizeMismatch {
			expected: model.len() as u64,
			actual: model.len() as u64 - 1
		})
	);
}

#[test]
fn a_golden_set_larger_than_one_batch_is_evaluated_in_chunks_with_the_same_result() {
	// Repeat the digits golden set past MAX_BATCH samples: the last chunk is padded, and the accuracy
	// must be exactly that of the original set.
	let digits = golden("digits_golden.safetensors");
	let copies = modelchain_evaluation::MAX_BATCH / digits.samples() + 2;
	let Labels::Classes(labels) = &digits.labels else { panic!("class labels") };
	let inputs = digits
		.inputs
		.iter()
		.map(|input| GoldenInput { values: input.values.repeat(copies), ..input.clone() })
		.collect();
	let big = GoldenSet::new(inputs, Labels::Classes(labels.repeat(copies))).unwrap();
	assert!(big.samples() > modelchain_evaluation::MAX_BATCH);
	assert_ne!(big.samples() % modelchain_evaluation::MAX_BATCH, 0);
	let model = read("digits_mlp.onnx");
	let small = evaluate(&model, &digits, Metric::Accuracy).unwrap();
	let large = evaluate(&model, &big, Metric::Accuracy).unwrap();
	assert_eq!(large.samples, small.samples * copies as u64);
	assert_eq!(large.score, small.score);
}

mod rounds {
	//! Training-round checks on the round fixtures: the aggregates `scripts/aggregate.py` (numpy) wrote
	//! must be exactly what the engine recomputes, for every rule.
	use super::*;
	use modelchain_evaluation::aggregate::{
		aggregate, check_aggregate, check_same_graph, AggregationRule,
	};
	use sp_runtime::Perbill;

	fn samples(update: &str) -> u64 {
		let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
		json["round"]["samples"][update].as_u64().unwrap()
	}

	fn honest() -> Vec<(Vec<u8>, u64)> {
		["round_update_a", "round_update_b"]
			.iter()
			.map(|u| (read(&format!("{u}.onnx")), samples(u)))
			.collect()
	}

	fn refs(parts: &[(Vec<u8>, u64)]) -> Vec<(&[u8], u64)> {
		parts.iter().map(|(b, w)| (b.as_slice(), *w)).collect()
	}

	/// Whether the fixture `update` is refused as not being `base`'s graph.
	fn other_graph(base: &[u8], update: &str) -> bool {
		matches!(check_same_graph(base, &read(update)), Err(EvalError::ArchitectureMismatch(_)))
	}

	/// Whether `candidate` is refused as not being `rule` applied to `parts`.
	fn mismatch(
		base: &[u8],
		parts: &[(Vec<u8>, u64)],
		rule: AggregationRule,
		candidate: &[u8],
	) -> bool {
		matches!(
			check_aggregate(base, &refs(parts), rule, candidate),
			Err(EvalError::AggregateMismatch(_))
		)
	}

	/// Checks numpy's FedAvg `numpy` (a fixture, scored by onnxruntime as `reference`) is the engine's,
	/// and that the engine's own aggregate scores onnxruntime's accuracy on `golden`; returns it.
	fn fedavg_is_numpys(
		base: &[u8],
		parts: &[(Vec<u8>, u64)],
		numpy: &str,
		golden: &GoldenSet,
	) -> Vec<u8> {
		let rule = AggregationRule::FedAvg;
		check_aggregate(base, &refs(parts), rule, &read(&format!("{numpy}.onnx"))).unwrap();
		let ours = aggregate(base, &refs(parts), rule).unwrap();
		let (expected, _) = reference(numpy, "accuracy");
		assert_eq!(evaluate(&ours, golden, Metric::Accuracy).unwrap().score, expected);
		ours
	}

	#[test]
	fn numpy_fedavg_is_the_engines_fedavg_bit_for_bit() {
		let golden = golden("digits_golden.safetensors");
		let base = read("round_base.onnx");
		fedavg_is_numpys(&base, &honest(), "round_aggregate_fedavg", &golden);
		let (expected, _) = reference("round_aggregate_fedavg", "accuracy");
		let numpy = read("round_aggregate_fedavg.onnx");
		assert_eq!(evaluate(&numpy, &golden, Metric::Accuracy).unwrap().score, expected);
	}

	#[test]
	fn numpy_median_and_trimmed_mean_are_the_engines() {
		let base = read("round_base.onnx");
		let mut parts = honest();
		parts.push((base.clone(), 1));
		check_aggregate(
			&base,
			&refs(&parts),
			AggregationRule::Median,
			&read("round_aggregate_median.onnx"),
		)
		.unwrap();
		parts.push((read("round_update_poisoned.onnx"), 1));
		check_aggregate(
			&base,
			&refs(&parts),
			AggregationRule::TrimmedMean(Perbill::from_percent(25)),
			&read("round_aggregate_trimmed.onnx"),
		)
		.unwrap();
	}

	#[test]
	fn an_aggregate_of_other_weights_or_another_rule_is_a_mismatch() {
		let base = read("round_base.onnx");
		let numpy = read("round_aggregate_fedavg.onnx");
		let mut parts = honest();
		// Equal weights instead of the declared sample counts.
		for part in parts.iter_mut() {
			part.1 = 1;
		}
		assert!(matches!(
			check_aggregate(&base, &refs(&parts), AggregationRule::FedAvg, &numpy),
			Err(EvalError::AggregateMismatch(_))
		));
		// One honest update passed off as the aggregate.
		assert!(matches!(
			check_aggregate(
				&base,
				&refs(&honest()),
				AggregationRule::FedAvg,
				&read("round_update_a.onnx")
			),
			Err(EvalError::AggregateMismatch(_))
		));
		// An aggregate of another graph.
		assert!(matches!(
			check_aggregate(
				&base,
				&refs(&honest()),
				AggregationRule::FedAvg,
				&read("round_update_wider.onnx")
			),
			Err(EvalError::ArchitectureMismatch(_))
		));
	}

	#[test]
	fn numpy_aggregates_of_half_float_and_double_weights_are_the_engines() {
		// float16, float32 and float64 initializers, each combined in f64 and rounded to its own type.
		let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
		let parts: Vec<(Vec<u8>, u64)> = (0..4)
			.map(|i| {
				let weight = json["mixed"]["weights"][i].as_u64().unwrap();
				(read(&format!("mixed_part_{i}.onnx")), weight)
			})
			.collect();
		let base = read("mixed_base.onnx");
		for (rule, name) in [
			(AggregationRule::FedAvg, "fedavg"),
			(AggregationRule::Median, "median"),
			(AggregationRule::TrimmedMean(Perbill::from_percent(25)), "trimmed"),
		] {
			let numpy = read(&format!("mixed_aggregate_{name}.onnx"));
			check_aggregate(&base, &refs(&parts), rule, &numpy)
				.unwrap_or_else(|e| panic!("{name}: {e}"));
			let ours = aggregate(&base, &refs(&parts), rule).unwrap();
			check_aggregate(&base, &refs(&parts), rule, &ours).unwrap();
		}
		// Another rule's aggregate is not this one's, in every precision.
		let fedavg = read("mixed_aggregate_fedavg.onnx");
		assert!(mismatch(&base, &parts, AggregationRule::Median, &fedavg));
	}

	#[test]
	fn scikit_learn_linear_models_are_aggregated_through_their_attributes() {
		// A scaled logistic regression keeps its parameters in ONNX-ML attributes (Scaler offset and
		// scale, LinearClassifier coefficients and intercepts): updates differ there only.
		let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
		let parts: Vec<(Vec<u8>, u64)> = ["sk_round_update_a", "sk_round_update_b"]
			.iter()
			.map(|u| (read(&format!("{u}.onnx")), json["sk_round"]["samples"][u].as_u64().unwrap()))
			.collect();
		let base = read("sk_round_base.onnx");
		for (update, _) in &parts {
			check_same_graph(&base, update).unwrap();
		}
		let iris = golden("iris_golden.safetensors");
		let ours = fedavg_is_numpys(&base, &parts, "sk_round_fedavg", &iris);
		let numpy = read("sk_round_fedavg.onnx");
		let (_, expected) = reference("sk_round_fedavg", "mean_cross_entropy");
		let actual = evaluate(&ours, &iris, Metric::MeanCrossEntropy).unwrap().score;
		assert_close(actual, expected, "scikit-learn FedAvg");
		// One update is not the aggregate; an unweighted mean is not FedAvg by samples.
		assert!(mismatch(&base, &parts, AggregationRule::FedAvg, &parts[0].0));
		let unweighted: Vec<(Vec<u8>, u64)> = parts.iter().map(|(b, _)| (b.clone(), 1)).collect();
		assert!(mismatch(&base, &unweighted, AggregationRule::FedAvg, &numpy));
		// Other kinds of models are not the base's graph.
		assert!(other_graph(&base, "sk_mlp.onnx"));
		assert!(other_graph(&base, "sk_forest.onnx"));
	}

	#[test]
	fn updates_must_keep_the_base_graph() {
		let base = read("round_base.onnx");
		check_same_graph(&base, &read("round_update_a.onnx")).unwrap();
		// Poisoned weights are still the same graph: the score is what catches them.
		check_same_graph(&base, &read("round_update_poisoned.onnx")).unwrap();
		assert!(other_graph(&base, "round_update_wider.onnx"));
		assert!(other_graph(&base, "diabetes_linear.onnx"));
		assert!(matches!(
			check_same_graph(&base, &read("bad_truncated.onnx")),
			Err(EvalError::MalformedModel(_))
		));
	}
}

#[test]
fn large_samples_go_in_smaller_batches() {
	use modelchain_evaluation::{batch_size, MAX_BATCH};
	// Tabular samples of 64 f32: as many as `MAX_BATCH`, or the whole set.
	assert_eq!(batch_size(5_000, 64 * 4), MAX_BATCH);
	assert_eq!(batch_size(540, 64 * 4), 540);
	// 3×224×224 images (602,112 bytes each as f32): 6 fit in 4 MiB. A sample larger than that goes alone.
	assert_eq!(batch_size(10, 3 * 224 * 224 * 4), 6);
	assert_eq!(batch_size(2, 3 * 1024 * 1024 * 4), 1);
	// The same images as u8 pixels fed as u8: 27 per batch (fed as f32 they count as f32).
	assert_eq!(batch_size(100, 3 * 224 * 224), 27);
}

#[test]
fn batches_whose_values_exceed_the_bound_are_made_smaller_in_proportion() {
	use modelchain_evaluation::{batch_within_value_bytes, MAX_BATCH_VALUE_BYTES as BOUND};
	assert_eq!(batch_within_value_bytes(1024, 3 << 20), 1024);
	assert_eq!(batch_within_value_bytes(1024, BOUND), 1024);
	// Values of 4 × the bound: a quarter of the batch; of 6 GiB at 1,024 samples: 85 (85.3).
	assert_eq!(batch_within_value_bytes(1024, 4 * BOUND), 256);
	assert_eq!(batch_within_value_bytes(1024, 6 << 30), 85);
	// Never below one sample, never above the batch asked for.
	assert_eq!(batch_within_value_bytes(1024, usize::MAX), 1);
	assert_eq!(batch_within_value_bytes(1, 10 * BOUND), 1);
}

#[test]
fn a_label_output_before_the_scores_is_passed_over_for_the_scores() {
	// Outputs `label` (int64, ArgMax) then `logits`: scored on the logits, as the plain model.
	let digits = golden("digits_golden.safetensors");
	let plain = read("digits_mlp.onnx");
	let label_first = read("digits_mlp_label_first.onnx");
	for metric in [Metric::Accuracy, Metric::TopKAccuracy(3), Metric::MeanCrossEntropy] {
		let expected = evaluate(&plain, &digits, metric);
		assert!(expected.is_ok());
		assert_eq!(evaluate(&label_first, &digits, metric), expected, "{metric:?}");
	}
}

#[test]
fn a_model_that_outputs_only_labels_is_scored_by_accuracy() {
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let expected = json["digits_mlp_labels_only"]["accuracy"]["ppb"].as_u64().unwrap();
	assert_eq!(
		expected,
		reference("digits_mlp", "accuracy").0,
		"the labels are the logits' argmax"
	);
	assert_eq!(
		score("digits_mlp_labels_only.onnx", "digits_golden.safetensors", Metric::Accuracy),
		Ok(expected)
	);
	// Labels carry no scores to rank or to take a loss of.
	for metric in [Metric::TopKAccuracy(3), Metric::MeanCrossEntropy] {
		let result = score("digits_mlp_labels_only.onnx", "digits_golden.safetensors", metric);
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{metric:?}: {result:?}");
	}
}

mod element_types {
	//! Golden sets and models of other element types than f32: each golden value is fed as the type the
	//! model's input declares, and scores equal onnxruntime's on the values the model receives.
	use super::*;
	use modelchain_evaluation::DatumType;

	/// The golden set `name` with its inputs re-encoded as `input_type` (each value as given by `map`).
	fn recoded(name: &str, input_type: DatumType, map: impl Fn(&[u8]) -> Vec<u8>) -> GoldenSet {
		let original = golden(name);
		let input = &original.inputs[0];
		let mut shape = vec![original.samples()];
		shape.extend(&input.sample_shape);
		let size = input.input_type.size_of();
		let values = input.values.chunks_exact(size).flat_map(map).collect();
		let input = GoldenInput::new(&input.name, &shape, input_type, values).unwrap();
		GoldenSet::new(vec![input], original.labels).expect("a valid golden set")
	}

	fn all_metrics(model: &str, dataset: &GoldenSet) -> Vec<Result<Evaluation, EvalError>> {
		let model = read(model);
		[Metric::Accuracy, Metric::TopKAccuracy(3), Metric::MeanCrossEntropy]
			.into_iter()
			.map(|metric| evaluate(&model, dataset, metric))
			.collect()
	}

	fn classification_equals_onnxruntime(model: &str, dataset: &GoldenSet) {
		let file = format!("{model}.onnx");
		let (expected, _) = reference(model, "accuracy");
		assert_eq!(
			evaluate(&read(&file), dataset, Metric::Accuracy).map(|e| e.score),
			Ok(expected)
		);
		assert!(expected > 900_000_000, "{model} is a real classifier");
		let (expected, _) = reference(model, "top3_accuracy");
		let actual = evaluate(&read(&file), dataset, Metric::TopKAccuracy(3)).map(|e| e.score);
		assert_eq!(actual, Ok(expected), "{model} top-3");
		let (_, expected) = reference(model, "mean_cross_entropy");
		let actual = evaluate(&read(&file), dataset, Metric::MeanCrossEntropy).unwrap().score;
		assert_close(actual, expected, model);
	}

	#[test]
	fn a_model_taking_uint8_pixels_equals_onnxruntime() {
		let pixels = golden("digits_golden_u8.safetensors");
		assert_eq!(pixels.inputs[0].input_type, DatumType::U8);
		classification_equals_onnxruntime("digits_mlp_u8", &pixels);
		// It scales its pixels inside the graph: the same scores as the f32 model on the f32 digits.
		assert_eq!(
			all_metrics("digits_mlp_u8.onnx", &pixels),
			all_metrics("digits_mlp.onnx", &golden("digits_golden.safetensors"))
		);
	}

	#[test]
	fn integers_are_widened_to_the_models_integer_type_when_every_value_fits() {
		// u8 pixels fed to a model of int64 token ids.
		let pixels = golden("digits_golden_u8.safetensors");
		classification_equals_onnxruntime("digits_token_bag", &pixels);
		// The same pixels as u16 score the same on the u8 model; one value beyond 255 does not fit it.
		let wide = recoded("digits_golden_u8.safetensors", DatumType::U16, |b| {
			u16::from(b[0]).to_le_bytes().to_vec()
		});
		assert_eq!(
			all_metrics("digits_mlp_u8.onnx", &wide),
			all_metrics("digits_mlp_u8.onnx", &pixels)
		);
		let mut beyond = wide.clone();
		beyond.inputs[0].values[2 * 64 + 10..2 * 64 + 12].copy_from_slice(&300u16.to_le_bytes());
		let result = evaluate(&read("digits_mlp_u8.onnx"), &beyond, Metric::Accuracy);
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
		// Floats are never truncated into integers.
		let result = score("digits_token_bag.onnx", "digits_golden.safetensors", Metric::Accuracy);
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
		// A token id that fits the type but not the embedding's vocabulary (pixel i of value v is token
		// 17·i + v, of 64·17; pixels are 0 to 16): ONNX makes a `Gather` index out of range an error,
		// onnxruntime fails on it, tract panicked.
		let mut beyond = pixels.clone();
		beyond.inputs[0].values[3 * 64 + 63] = 17;
		let result = evaluate(&read("digits_token_bag.onnx"), &beyond, Metric::Accuracy);
		assert!(
			matches!(&result, Err(EvalError::ShapeMismatch(m)) if m.contains("(Gather)")),
			"{result:?}"
		);
	}

	#[test]
	fn float64_models_and_datasets_match_onnxruntime() {
		let f64_set = golden("diabetes_golden_f64.safetensors");
		assert_eq!(f64_set.inputs[0].input_type, DatumType::F64);
		let (_, expected) = reference("diabetes_linear_f64", "mean_squared_error");
		let actual =
			evaluate(&read("diabetes_linear_f64.onnx"), &f64_set, Metric::MeanSquaredError);
		assert_close(actual.unwrap().score, expected, "f64 model, f64 set");
		// The f32 model gets the f64 inputs rounded to f32; its f32 outputs are compared with the f64
		// targets.
		let (_, expected) = reference("diabetes_linear_on_f64", "mean_squared_error");
		let actual = evaluate(&read("diabetes_linear.onnx"), &f64_set, Metric::MeanSquaredError);
		assert_close(actual.unwrap().score, expected, "f32 model, f64 set");
		// A value beyond f32's range does not fit the f32 model (it would be infinite).
		let huge = recoded("diabetes_golden_f64.safetensors", DatumType::F64, |b| {
			let v = f64::from_le_bytes(b.try_into().unwrap());
			if v == 0.0 { v } else { v * 1e300 }.to_le_bytes().to_vec()
		});
		let result = evaluate(&read("diabetes_linear.onnx"), &huge, Metric::MeanSquaredError);
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
	}

	#[test]
	fn float64_inputs_and_boolean_labels_score_as_their_float32_rounding() {
		let f64_set = golden("cancer_golden_f64.safetensors");
		let f32_set = golden("cancer_golden.safetensors");
		assert_eq!(f64_set.labels, f32_set.labels, "bool labels are classes 0 and 1");
		for model in ["cancer_logistic.onnx", "cancer_logit.onnx"] {
			for metric in [Metric::Accuracy, Metric::MeanCrossEntropy] {
				let expected = evaluate(&read(model), &f32_set, metric);
				assert!(expected.is_ok());
				assert_eq!(
					evaluate(&read(model), &f64_set, metric),
					expected,
					"{model} {metric:?}"
				);
			}
		}
	}
}

mod scikit_learn_exports {
	//! Models exported by skl2onnx as scikit-learn users export them: ONNX-ML operators, the predicted
	//! label first, the probabilities second (as a `ZipMap` by default), scored as onnxruntime scores
	//! their probabilities.
	use super::*;

	fn classifier_equals_onnxruntime(model: &str) {
		let (expected, _) = reference(model, "accuracy");
		assert!(expected > 900_000_000, "{model} is a real classifier");
		// Probabilities, not logits: their logarithm, not their log-softmax, is the loss.
		for file in [model.to_string(), format!("{model}_nozip")] {
			file_scores_equal_onnxruntime(&file, model, "iris_golden.safetensors", 2);
		}
	}

	#[test]
	fn a_scaled_logistic_regression_equals_onnxruntime() {
		// Scaler, LinearClassifier (softmax), Normalizer (L1), ZipMap.
		classifier_equals_onnxruntime("sk_logreg_scaled");
	}

	#[test]
	fn a_random_forest_equals_onnxruntime() {
		// TreeEnsembleClassifier, ZipMap.
		classifier_equals_onnxruntime("sk_forest");
	}

	#[test]
	fn an_mlp_is_scored_on_its_probabilities_not_its_label() {
		// Its label output goes through ArrayFeatureExtractor; only its probabilities are run.
		classifier_equals_onnxruntime("sk_mlp");
	}

	#[test]
	fn a_scaled_linear_regression_equals_onnxruntime() {
		// Scaler, LinearRegressor.
		let (_, expected) = reference("sk_linear_scaled", "mean_squared_error");
		let actual =
			score("sk_linear_scaled.onnx", "diabetes_golden.safetensors", Metric::MeanSquaredError);
		assert_close(actual.unwrap(), expected, "scaled linear regression");
	}
}

mod tree_ensembles {
	//! ONNX-ML tree ensembles: scikit-learn's regressors (`TreeEnsembleRegressor`, which tract lacks), a
	//! binary gradient boosting classifier (one score per sample), and ensembles numbered and compared as
	//! the specification allows but exporters seldom write them.
	use super::*;

	#[test]
	fn a_random_forest_regressor_equals_onnxruntime() {
		regressor_equals_onnxruntime("sk_forest_regressor");
	}

	#[test]
	fn a_gradient_boosting_regressor_with_its_base_value_equals_onnxruntime() {
		regressor_equals_onnxruntime("sk_boosting_regressor");
	}

	#[test]
	fn a_decision_tree_regressor_equals_onnxruntime() {
		regressor_equals_onnxruntime("sk_tree_regressor");
	}

	#[test]
	fn averaged_trees_numbered_out_of_order_with_every_comparison_equal_onnxruntime() {
		regressor_equals_onnxruntime("odd_trees_regressor");
	}

	#[test]
	fn a_classifier_numbered_out_of_order_equals_onnxruntime() {
		scores_equal_onnxruntime("odd_trees_classifier", "iris_golden.safetensors", 2);
	}

	#[test]
	fn a_binary_gradient_boosting_classifier_equals_onnxruntime() {
		// One score per sample (a logistic of it is class 1's probability), one base value.
		scores_equal_onnxruntime("sk_boosting_binary", "cancer_golden.safetensors", 1);
	}
}

mod support_vector_machines {
	//! scikit-learn's support vector machines (`SVMClassifier`, `SVMRegressor`, which tract lacks) and a
	//! mean imputer (`Imputer`), scored as onnxruntime scores them.
	use super::*;

	#[test]
	fn an_rbf_svc_with_probabilities_equals_onnxruntime() {
		// libsvm's pairwise Platt probabilities, coupled into class probabilities.
		scores_equal_onnxruntime("sk_svc_probabilities", "iris_golden.safetensors", 2);
	}

	#[test]
	fn an_rbf_svc_without_probabilities_equals_onnxruntime() {
		// Its one-against-one decisions, turned into a score per class by standard operators.
		scores_equal_onnxruntime("sk_svc", "iris_golden.safetensors", 2);
	}

	#[test]
	fn a_binary_svc_is_scored_by_its_label() {
		// Scaler, then a linear-kernel SVMClassifier whose one decision is not a score per class.
		let cancer = golden("cancer_golden.safetensors");
		let bytes = read("sk_svc_binary.onnx");
		let (expected, _) = reference("sk_svc_binary", "accuracy");
		assert_eq!(evaluate(&bytes, &cancer, Metric::Accuracy).map(|e| e.score), Ok(expected));
		assert!(matches!(
			evaluate(&bytes, &cancer, Metric::MeanCrossEntropy),
			Err(EvalError::ShapeMismatch(_))
		));
	}

	#[test]
	fn imputed_pixels_equal_onnxruntime() {
		// Imputer (zero pixels become their column's mean), LinearClassifier, Normalizer.
		scores_equal_onnxruntime("sk_imputed_logreg", "digits_golden.safetensors", 2);
	}

	#[test]
	fn rbf_and_polynomial_svrs_equal_onnxruntime() {
		regressor_equals_onnxruntime("sk_svr");
		regressor_equals_onnxruntime("sk_svr_poly");
	}

	#[test]
	fn features_are_gathered_as_onnxruntime_gathers_them() {
		// ArrayFeatureExtractor with scalar indices into a matrix (AdaBoost's weighted median) and with a
		// matrix of indices into a vector (the neighbours' targets).
		regressor_equals_onnxruntime("sk_adaboost_regressor");
		regressor_equals_onnxruntime("sk_knn_regressor");
	}
}

mod default_exports {
	//! More of scikit-learn, exported with skl2onnx's default opsets and options (the probabilities as a
	//! `ZipMap`), scored as onnxruntime scores their probabilities.
	use super::*;

	#[test]
	fn nearest_neighbours_with_a_scan_equal_onnxruntime() {
		// Distances computed in a `Scan`: the `ZipMap` after it is still left out. The probabilities
		// are the neighbours' votes divided by their sum.
		scores_equal_onnxruntime("sk_knn_classifier", "iris_golden.safetensors", 2);
	}

	#[test]
	fn averaged_probabilities_of_standard_operators_equal_onnxruntime() {
		scores_equal_onnxruntime("sk_bagging", "iris_golden.safetensors", 2);
	}

	#[test]
	fn naive_bayes_equals_onnxruntime() {
		// Log-likelihoods in the hundreds to thousands through `ReduceLogSumExp`, which tract computes
		// as log(sum(exp(x))): NaN, or every sample in class 0, before the engine wrote it stably.
		scores_equal_onnxruntime("sk_multinomial_nb", "digits_golden.safetensors", 2);
		scores_equal_onnxruntime("sk_complement_nb", "cancer_golden.safetensors", 1);
	}

	#[test]
	fn binarized_and_one_hot_encoded_features_equal_onnxruntime() {
		// ONNX-ML `Binarizer` and `OneHotEncoder` (a `KBinsDiscretizer`), which tract lacks.
		scores_equal_onnxruntime("sk_binarized_nb", "digits_golden.safetensors", 2);
		scores_equal_onnxruntime("sk_kbins_logreg", "iris_golden.safetensors", 2);
	}

	#[test]
	fn ordinal_encoded_features_equal_onnxruntime() {
		// `OrdinalEncoder` (an ONNX-ML `LabelEncoder` of float keys), which tract lacks; its other key
		// and value types and its default are in `operators_of_current_networks_equal_onnxruntime`.
		scores_equal_onnxruntime("sk_ordinal_logreg", "digits_golden.safetensors", 2);
	}

	#[test]
	fn polynomial_features_equal_onnxruntime() {
		// 496 columns gathered one by one and concatenated (993 nodes).
		scores_equal_onnxruntime("sk_polynomial_logreg", "cancer_golden.safetensors", 1);
		// 2,145 columns in one `Concat` (4,293 nodes): each of the three evaluations took 32–41 s before
		// the engine wrote wide `Concat`s as trees.
		scores_equal_onnxruntime("sk_polynomial_digits", "digits_golden.safetensors", 2);
	}

	#[test]
	fn one_hot_encoders_the_engine_cannot_read_are_refused_with_reasons() {
		let strings =
			score("bad_one_hot_strings.onnx", "digits_golden.safetensors", Metric::Accuracy);
		assert!(
			matches!(&strings, Err(EvalError::UnsupportedOperator(m)) if m.contains("string categories")),
			"{strings:?}"
		);
		let twice =
			score("bad_one_hot_duplicates.onnx", "digits_golden.safetensors", Metric::Accuracy);
		assert!(
			matches!(&twice, Err(EvalError::MalformedModel(m)) if m.contains("category 1 is listed twice")),
			"{twice:?}"
		);
	}
}

mod several_inputs {
	//! Models of several inputs, fed by the golden tensors named as their inputs.
	use super::*;

	#[test]
	fn each_input_is_fed_the_tensor_of_its_name() {
		// `left` and `right` halves of the digits, concatenated inside the model: the digits MLP's scores.
		let halves = golden("digits_golden_halves.safetensors");
		let names: Vec<&str> = halves.inputs.iter().map(|i| i.name.as_str()).collect();
		assert_eq!(names, ["left", "right"]);
		let model = read("digits_mlp_halves.onnx");
		let (expected, _) = reference("digits_mlp_halves", "accuracy");
		assert_eq!(score_of(&model, &halves), Ok(expected));
		assert!(expected > 950_000_000, "the halves model is the digits classifier");
		let (top3, _) = reference("digits_mlp_halves", "top3_accuracy");
		let actual = evaluate(&model, &halves, Metric::TopKAccuracy(3)).map(|e| e.score);
		assert_eq!(actual, Ok(top3));
		let (_, loss) = reference("digits_mlp_halves", "mean_cross_entropy");
		let actual = evaluate(&model, &halves, Metric::MeanCrossEntropy).unwrap().score;
		assert_close(actual, loss, "two-input model");
		// Swapped halves are other inputs: another (worse) score.
		let mut swapped = halves.clone();
		swapped.inputs[0].name = "right".into();
		swapped.inputs[1].name = "left".into();
		let score = evaluate(&model, &swapped, Metric::Accuracy).unwrap().score;
		assert!(score < expected, "{score}");
		// A golden set without a tensor of an input's name does not fit the model.
		let result = score_of(&model, &golden("digits_golden.safetensors"));
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
	}

	fn score_of(model: &[u8], dataset: &GoldenSet) -> Result<u64, EvalError> {
		evaluate(model, dataset, Metric::Accuracy).map(|e| e.score)
	}

	#[test]
	fn a_one_input_model_takes_the_tensor_of_its_name_or_else_inputs() {
		let digits = golden("digits_golden.safetensors");
		let model = read("digits_mlp.onnx");
		let expected = score_of(&model, &digits);
		assert!(expected.is_ok());
		let inputs = digits.inputs[0].clone();
		let noise = GoldenInput { name: "noise".into(), ..inputs.clone() };
		let mut shuffled = inputs.clone();
		shuffled.values.rotate_left(64 * 4);
		// `inputs` among other tensors.
		let set =
			GoldenSet::new(vec![noise.clone(), inputs.clone()], digits.labels.clone()).unwrap();
		assert_eq!(score_of(&model, &set), expected);
		// The model's input is named `input`: a tensor of that name comes first.
		let named = GoldenInput { name: "input".into(), ..inputs.clone() };
		let other = GoldenInput { name: "inputs".into(), ..shuffled };
		let set = GoldenSet::new(vec![other, named], digits.labels.clone()).unwrap();
		assert_eq!(score_of(&model, &set), expected);
		// Two tensors, neither named for the model: it does not fit.
		let two = GoldenSet::new(
			vec![noise.clone(), GoldenInput { name: "more".into(), ..noise }],
			digits.labels.clone(),
		)
		.unwrap();
		let result = score_of(&model, &two);
		assert!(matches!(result, Err(EvalError::ShapeMismatch(_))), "{result:?}");
	}

	#[test]
	fn input_tensors_must_agree_with_the_labels() {
		let halves = golden("digits_golden_halves.safetensors");
		let mut short = halves.inputs.clone();
		let one_sample_fewer = short[1].values.len() - 32 * 4;
		short[1].values.truncate(one_sample_fewer);
		let result = GoldenSet::new(short, halves.labels.clone());
		assert!(matches!(result, Err(EvalError::BadDataset(_))), "{result:?}");
		let result = GoldenSet::new(
			vec![halves.inputs[0].clone(), halves.inputs[0].clone()],
			halves.labels.clone(),
		);
		assert!(matches!(result, Err(EvalError::BadDataset(_))), "{result:?}");
		let result = GoldenSet::new(vec![], halves.labels);
		assert!(matches!(result, Err(EvalError::BadDataset(_))), "{result:?}");
	}
}

#[test]
fn operators_of_current_networks_equal_onnxruntime() {
	// One graph per operator family (opsets 17 to 21): the targets are onnxruntime's outputs, so the
	// mean squared error is 0 in parts per billion when the engine computes what onnxruntime does.
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let names: Vec<&str> =
		json["operators"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
	assert!(names.len() >= 20, "{names:?}");
	let failures: Vec<String> = names
		.iter()
		.filter_map(|name| {
			let model = format!("op_{name}.onnx");
			let golden = format!("op_{name}_golden.safetensors");
			let result = score(&model, &golden, Metric::MeanSquaredError);
			(result != Ok(0)).then(|| format!("{name}: {result:?}"))
		})
		.collect();
	assert!(failures.is_empty(), "{failures:#?}");
}
