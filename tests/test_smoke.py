from bot.conversation import Conversation, User


async def test_conversation_answers_a_question_with_citations(settings):
    conversation = Conversation.create(settings)
    reply = await conversation.ask(User("console", "u1"), "Do investors pay land rent in the free trade zone?")
    assert not reply.answer.refused
    assert reply.answer.citations
    assert "[1]" in reply.answer.text
    assert reply.answer_id is not None
