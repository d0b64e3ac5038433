//! Round trips: for every record, `decode(encode(x)) == x` and the decoder
//! consumes exactly the bytes the encoder wrote. Values come from
//! `jute::arb` (derived by `jute_record!`) and the strategies below for the
//! records with a shape of their own.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::*;
use crate::jute::arb::Arb;
use crate::jute::{Reader, Record};

fn assert_round_trip<T: Record + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = value.to_bytes();
    let mut r = Reader::new(&bytes);
    let back = T::decode(&mut r).expect("a record we encoded decodes");
    assert_eq!(&back, value);
    assert_eq!(r.remaining(), 0, "decode consumed every byte encode wrote");
}

fn arb_connect_request() -> BoxedStrategy<ConnectRequest> {
    (
        any::<i32>(),
        any::<i64>(),
        any::<i32>(),
        any::<i64>(),
        Vec::<u8>::arb(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(v, z, t, s, p, ro)| ConnectRequest {
            protocol_version: v,
            last_zxid_seen: Zxid(z),
            time_out: t,
            session_id: SessionId(s),
            passwd: p,
            read_only: ro,
        })
        .boxed()
}

fn arb_connect_response() -> BoxedStrategy<ConnectResponse> {
    (
        any::<i32>(),
        any::<i32>(),
        any::<i64>(),
        Vec::<u8>::arb(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(v, t, s, p, ro)| ConnectResponse {
            protocol_version: v,
            time_out: t,
            session_id: SessionId(s),
            passwd: p,
            read_only: ro,
        })
        .boxed()
}

fn arb_multi_op() -> BoxedStrategy<MultiOp> {
    prop_oneof![
        CreateRequest::arb().prop_map(MultiOp::Create),
        CreateRequest::arb().prop_map(MultiOp::Create2),
        CreateRequest::arb().prop_map(MultiOp::CreateContainer),
        CreateTtlRequest::arb().prop_map(MultiOp::CreateTtl),
        DeleteRequest::arb().prop_map(MultiOp::Delete),
        SetDataRequest::arb().prop_map(MultiOp::SetData),
        CheckVersionRequest::arb().prop_map(MultiOp::Check),
        GetChildrenRequest::arb().prop_map(MultiOp::GetChildren),
        GetDataRequest::arb().prop_map(MultiOp::GetData),
    ]
    .boxed()
}

fn arb_multi_request() -> BoxedStrategy<MultiRequest> {
    proptest::collection::vec(arb_multi_op(), 0..5)
        .prop_map(|ops| MultiRequest { ops })
        .boxed()
}

fn arb_op_result() -> BoxedStrategy<OpResult> {
    prop_oneof![
        CreateResponse::arb().prop_map(OpResult::Create),
        Create2Response::arb().prop_map(OpResult::Create2),
        Just(OpResult::Delete),
        SetDataResponse::arb().prop_map(OpResult::SetData),
        Just(OpResult::Check),
        GetChildrenResponse::arb().prop_map(OpResult::GetChildren),
        GetDataResponse::arb().prop_map(OpResult::GetData),
        any::<i32>().prop_map(OpResult::Error),
    ]
    .boxed()
}

fn arb_multi_response() -> BoxedStrategy<MultiResponse> {
    proptest::collection::vec(arb_op_result(), 0..5)
        .prop_map(|results| MultiResponse { results })
        .boxed()
}

fn arb_request() -> BoxedStrategy<Request> {
    prop_oneof![
        CreateRequest::arb().prop_map(Request::Create),
        CreateRequest::arb().prop_map(Request::Create2),
        CreateRequest::arb().prop_map(Request::CreateContainer),
        CreateTtlRequest::arb().prop_map(Request::CreateTtl),
        DeleteRequest::arb().prop_map(Request::Delete),
        ExistsRequest::arb().prop_map(Request::Exists),
        GetDataRequest::arb().prop_map(Request::GetData),
        SetDataRequest::arb().prop_map(Request::SetData),
        GetAclRequest::arb().prop_map(Request::GetAcl),
        SetAclRequest::arb().prop_map(Request::SetAcl),
        GetChildrenRequest::arb().prop_map(Request::GetChildren),
        GetChildren2Request::arb().prop_map(Request::GetChildren2),
        SyncRequest::arb().prop_map(Request::Sync),
        Just(Request::Ping),
        CheckVersionRequest::arb().prop_map(Request::Check),
        arb_multi_request().prop_map(Request::Multi),
        arb_multi_request().prop_map(Request::MultiRead),
        ReconfigRequest::arb().prop_map(Request::Reconfig),
        CheckWatchesRequest::arb().prop_map(Request::CheckWatches),
        RemoveWatchesRequest::arb().prop_map(Request::RemoveWatches),
        AuthPacket::arb().prop_map(Request::Auth),
        SetWatches::arb().prop_map(Request::SetWatches),
        SetWatches2::arb().prop_map(Request::SetWatches2),
        SaslToken::arb().prop_map(Request::Sasl),
        GetEphemeralsRequest::arb().prop_map(Request::GetEphemerals),
        GetAllChildrenNumberRequest::arb().prop_map(Request::GetAllChildrenNumber),
        AddWatchRequest::arb().prop_map(Request::AddWatch),
        Just(Request::WhoAmI),
        Just(Request::CloseSession),
    ]
    .boxed()
}

/// A response together with an opcode whose reply has that shape.
fn arb_response() -> BoxedStrategy<(OpCode, Response)> {
    prop_oneof![
        Just((OpCode::Delete, Response::Empty)),
        CreateResponse::arb().prop_map(|r| (OpCode::Create, Response::Create(r))),
        Create2Response::arb().prop_map(|r| (OpCode::Create2, Response::Create2(r))),
        Create2Response::arb().prop_map(|r| (OpCode::CreateTtl, Response::Create2(r))),
        ExistsResponse::arb().prop_map(|r| (OpCode::Exists, Response::Exists(r))),
        GetDataResponse::arb().prop_map(|r| (OpCode::GetData, Response::GetData(r))),
        SetDataResponse::arb().prop_map(|r| (OpCode::SetData, Response::SetData(r))),
        GetAclResponse::arb().prop_map(|r| (OpCode::GetAcl, Response::GetAcl(r))),
        SetAclResponse::arb().prop_map(|r| (OpCode::SetAcl, Response::SetAcl(r))),
        GetChildrenResponse::arb().prop_map(|r| (OpCode::GetChildren, Response::GetChildren(r))),
        GetChildren2Response::arb().prop_map(|r| (OpCode::GetChildren2, Response::GetChildren2(r))),
        SyncResponse::arb().prop_map(|r| (OpCode::Sync, Response::Sync(r))),
        arb_multi_response().prop_map(|r| (OpCode::Multi, Response::Multi(r))),
        SaslToken::arb().prop_map(|r| (OpCode::Sasl, Response::Sasl(r))),
        GetEphemeralsResponse::arb()
            .prop_map(|r| (OpCode::GetEphemerals, Response::GetEphemerals(r))),
        GetAllChildrenNumberResponse::arb().prop_map(|r| (
            OpCode::GetAllChildrenNumber,
            Response::GetAllChildrenNumber(r)
        )),
        ErrorResponse::arb().prop_map(|r| (OpCode::AddWatch, Response::AddWatch(r))),
        WhoAmIResponse::arb().prop_map(|r| (OpCode::WhoAmI, Response::WhoAmI(r))),
    ]
    .boxed()
}

/// One proptest per plain record: every jute_record! in records.rs.
macro_rules! round_trip_records {
    ($($test:ident: $t:ty,)*) => {
        proptest! {$(
            #[test]
            fn $test(value in <$t>::arb()) { assert_round_trip(&value); }
        )*}
    };
}

round_trip_records! {
    stat_round_trips: Stat,
    id_round_trips: Id,
    acl_round_trips: Acl,
    request_header_round_trips: RequestHeader,
    reply_header_round_trips: ReplyHeader,
    multi_header_round_trips: MultiHeader,
    create_request_round_trips: CreateRequest,
    create_ttl_request_round_trips: CreateTtlRequest,
    delete_request_round_trips: DeleteRequest,
    exists_request_round_trips: ExistsRequest,
    get_data_request_round_trips: GetDataRequest,
    set_data_request_round_trips: SetDataRequest,
    get_acl_request_round_trips: GetAclRequest,
    set_acl_request_round_trips: SetAclRequest,
    get_children_request_round_trips: GetChildrenRequest,
    get_children2_request_round_trips: GetChildren2Request,
    sync_request_round_trips: SyncRequest,
    check_version_request_round_trips: CheckVersionRequest,
    reconfig_request_round_trips: ReconfigRequest,
    check_watches_request_round_trips: CheckWatchesRequest,
    remove_watches_request_round_trips: RemoveWatchesRequest,
    auth_packet_round_trips: AuthPacket,
    set_watches_round_trips: SetWatches,
    set_watches2_round_trips: SetWatches2,
    sasl_token_round_trips: SaslToken,
    get_ephemerals_request_round_trips: GetEphemeralsRequest,
    get_all_children_number_request_round_trips: GetAllChildrenNumberRequest,
    add_watch_request_round_trips: AddWatchRequest,
    create_response_round_trips: CreateResponse,
    create2_response_round_trips: Create2Response,
    exists_response_round_trips: ExistsResponse,
    get_data_response_round_trips: GetDataResponse,
    set_data_response_round_trips: SetDataResponse,
    get_acl_response_round_trips: GetAclResponse,
    set_acl_response_round_trips: SetAclResponse,
    get_children_response_round_trips: GetChildrenResponse,
    get_children2_response_round_trips: GetChildren2Response,
    sync_response_round_trips: SyncResponse,
    error_response_round_trips: ErrorResponse,
    get_ephemerals_response_round_trips: GetEphemeralsResponse,
    get_all_children_number_response_round_trips: GetAllChildrenNumberResponse,
    client_info_round_trips: ClientInfo,
    who_am_i_response_round_trips: WhoAmIResponse,
    watched_event_round_trips: WatchedEvent,
}

proptest! {
    #[test]
    fn connect_request_round_trips_with_and_without_the_read_only_byte(
        value in arb_connect_request()
    ) {
        assert_round_trip(&value);
    }

    #[test]
    fn connect_response_round_trips_with_and_without_the_read_only_byte(
        value in arb_connect_response()
    ) {
        assert_round_trip(&value);
    }

    #[test]
    fn multi_request_round_trips(value in arb_multi_request()) {
        assert_round_trip(&value);
    }

    #[test]
    fn multi_response_round_trips(value in arb_multi_response()) {
        assert_round_trip(&value);
    }

    #[test]
    fn every_request_round_trips_through_its_header_and_opcode(
        xid in any::<i32>(), request in arb_request()
    ) {
        let frame = encode_request(xid, &request);
        let (header, back) = decode_request(&frame).expect("our own request decodes");
        prop_assert_eq!(header.xid, xid);
        prop_assert_eq!(header.r#type, request.op_code().code());
        prop_assert_eq!(back, request);
    }

    #[test]
    fn every_response_round_trips_given_its_request_opcode(
        xid in 1..i32::MAX, zxid in any::<i64>(), (op, response) in arb_response()
    ) {
        let header = ReplyHeader { xid, zxid: Zxid(zxid), err: 0 };
        let frame = encode_reply(&header, Some(&response));
        let (kind, mut body) = decode_server_frame(&frame).expect("header decodes");
        prop_assert_eq!(kind, ServerFrame::Reply(header.clone()));
        let back = decode_response(op, &header, &mut body).expect("body decodes");
        prop_assert_eq!(back, Some(response));
        prop_assert_eq!(body.remaining(), 0);
    }

    #[test]
    fn a_notification_round_trips_under_xid_minus_one(event in WatchedEvent::arb()) {
        let frame = encode_notification(&event);
        let (kind, _) = decode_server_frame(&frame).expect("notification decodes");
        prop_assert_eq!(kind, ServerFrame::Notification(event));
    }

    #[test]
    fn random_bytes_never_panic_the_request_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_request(&bytes);
        let _ = ConnectRequest::from_bytes(&bytes);
        let _ = decode_server_frame(&bytes);
        let _ = MultiRequest::from_bytes(&bytes);
    }
}

/// Stat is 68 bytes: 6 longs and 5 ints (client-protocol.md §7).
#[test]
fn a_stat_is_68_bytes_on_the_wire() {
    assert_eq!(Stat::default().to_bytes().len(), 68);
}

/// A typical ConnectRequest is 45 bytes and its response 37
/// (client-protocol.md §3, confirmed by the captures in tests/fixtures).
#[test]
fn a_fresh_handshake_is_45_bytes_up_and_37_bytes_down() {
    let req = ConnectRequest {
        time_out: 30_000,
        passwd: vec![0; 16],
        read_only: Some(false),
        ..ConnectRequest::default()
    };
    let rsp = ConnectResponse {
        time_out: 30_000,
        session_id: SessionId(0x0100_000d_b328_0000),
        passwd: vec![7; 16],
        read_only: Some(false),
        ..ConnectResponse::default()
    };
    assert_eq!(req.to_bytes().len(), 45);
    assert_eq!(rsp.to_bytes().len(), 37);
}

/// An error reply is the 16-byte header alone; the one body an error carries is
/// the part of a multiRead upstream had built when it threw (FinalRequestProcessor
/// sends whatever response it holds).
#[test]
fn an_error_reply_carries_no_body_unless_given_one() {
    let header = ReplyHeader {
        xid: 5,
        zxid: Zxid(9),
        err: ZkError::MarshallingError.code(),
    };
    assert_eq!(encode_reply(&header, None).len(), 16);
    let begun = Response::Multi(crate::proto::MultiResponse::default());
    // The header, then the multi's closing MultiHeader {-1, true, -1}.
    assert_eq!(encode_reply(&header, Some(&begun)).len(), 16 + 9);
}

/// Every opcode maps back to itself; 10 is a gap in `ZooDefs.OpCode`.
#[test]
fn opcodes_map_both_ways() {
    for op in OpCode::ALL {
        assert_eq!(OpCode::from_code(op.code()), Some(*op));
    }
    assert_eq!(OpCode::from_code(10), None);
}
